/** Runs an uploaded CSV through the analysis pipeline, one at a time per process (the queue). */
import { rm } from 'node:fs/promises';
import { runAnalysis } from '../../analysis/pipeline.ts';
import type { AnalysisQueue } from '../../analysis/queue.ts';
import type { AnalysisParameters, AnalysisSummary } from '../../analysis/types.ts';
import type { Config } from '../../config/index.ts';
import type { FlowTable } from '../../ingest/types.ts';
import type { Logger } from '../../logging/index.ts';
import type { AnalysisStore } from '../../storage/index.ts';

export interface AnalyzeServiceDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: AnalysisStore;
  readonly queue: AnalysisQueue;
  /** Detector worker threads per analysis. */
  readonly workers?: number;
  /** results.csv now or on first download (default: by size). */
  readonly scoredDataset?: 'eager' | 'lazy';
  /**
   * Given, analyses answer before their chart PNGs are drawn (runAnalysis `charts: 'deferred'`)
   * and this draws them just after the answer is sent; a chart asked for sooner is drawn by its
   * route. Without it the PNGs are drawn inside the analysis.
   */
  readonly drawCharts?: (id: string) => Promise<void>;
}

export class AnalyzeService {
  constructor(private readonly deps: AnalyzeServiceDeps) {}

  /** Uploads being parsed while they arrive, whose analyses have not started yet. */
  private parseClaims = 0;

  /** True when an analysis submitted now would start at once (a free slot, nobody waiting). */
  wouldStartNow(): boolean {
    const { queue } = this.deps;
    return queue.running < queue.concurrency && queue.waiting === 0;
  }

  /**
   * Claims the right to parse an upload while it arrives: only while its analysis would start at
   * once and no other upload holds a claim, so uploads arriving together do not all hold a parsed
   * table while they wait. Returns the release function (idempotent), or null when refused.
   */
  claimParse(): (() => void) | null {
    if (!this.wouldStartNow() || this.parseClaims > 0) return null;
    this.parseClaims++;
    let held = true;
    return () => {
      if (held) {
        held = false;
        this.parseClaims--;
      }
    };
  }

  /**
   * Analyses the uploaded file (moved into the analysis folder); the upload is gone afterwards
   * either way. `table`: the file already parsed while it arrived (see runAnalysis). Null when the
   * client disconnected before the analysis could start.
   */
  async analyze(
    upload: { path: string; fileName: string; table?: FlowTable },
    parameters: AnalysisParameters,
    options: { clientGone?: () => boolean; releaseParse?: () => void } = {},
  ): Promise<AnalysisSummary | null> {
    const { config, logger, store, queue } = this.deps;
    try {
      const summary = await queue.run(() => {
        options.releaseParse?.();
        // A client that left while its upload waited in the queue gets nothing: its upload is
        // already removed, so the slot goes to the next one instead of failing on a missing file.
        if (options.clientGone?.()) {
          logger.info('analysis skipped: the client disconnected while it waited in the queue');
          return Promise.resolve(null);
        }
        return runAnalysis({
          inputPath: upload.path,
          fileName: upload.fileName,
          table: upload.table,
          parameters,
          config,
          outputsDir: store.outputsDir,
          store,
          logger,
          workers: this.deps.workers,
          scoredDataset: this.deps.scoredDataset,
          charts: this.deps.drawCharts ? 'deferred' : 'eager',
        });
      });
      const draw = this.deps.drawCharts;
      if (summary !== null && draw) {
        // After the caller has sent its answer (that happens in this turn of the event loop).
        setImmediate(() => {
          draw(summary.id).catch((err: unknown) =>
            logger.warn(`drawing the charts failed: ${(err as Error).message}`, { analysisId: summary.id, error: (err as Error).name }),
          );
        });
      }
      return summary;
    } finally {
      await rm(upload.path, { force: true }).catch(() => undefined);
    }
  }
}

export function analysisLinks(id: string) {
  return {
    page: `/analysis/${id}`,
    report: `/download/${id}`,
    results: `/download/${id}/results`,
    summary: `/download/${id}/summary`,
    model: `/download/${id}/model`,
    scatter: `/visualization/${id}/scatter`,
    distribution: `/visualization/${id}/distribution`,
    timeline: `/visualization/${id}/timeline`,
    points: `/analysis/${id}/points.json`,
    anomalies: `/analysis/${id}/anomalies.json`,
    /** Add '/<incident id>' for the CSV of every flow behind that incident. */
    incidentFlows: `/download/${id}/incident`,
  };
}

/** The JSON answer of POST /analyze (keeps the original app's keys, adds ours). */
export function analyzeResponse(summary: AnalysisSummary) {
  const links = analysisLinks(summary.id);
  return {
    success: true as const,
    timestamp: summary.id,
    id: summary.id,
    fileName: summary.fileName,
    createdAt: summary.createdAt,
    durationMs: summary.durationMs,
    timings: summary.timings,
    parameters: summary.parameters,
    statistics: summary.statistics,
    recommendations: summary.recommendations,
    incidents: summary.incidents,
    top_anomalies: summary.topAnomalies,
    warnings: summary.warnings,
    links,
    visualization_urls: { scatter: links.scatter, distribution: links.distribution, timeline: links.timeline },
    download_url: links.report,
    results_url: links.results,
    analysis_url: links.page,
  };
}
