/**
 * The analysis pipeline, callable without HTTP (web, CLI and benchmarks use it):
 * ingest → feature columns → Isolation Forest → explanations → findings → anomaly rows → charts →
 * reports → JSON artifacts, all written into outputs/.tmp-<id>/ and renamed to outputs/<id>/ at the
 * end. Any failure removes the temp folder: nothing half-written is left behind.
 */
import { copyFile, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/index.ts';
import type { Explanation } from '../detection/types.ts';
import { AnomalyModel, ExplanationSet } from '../detection/index.ts';
import { analyzeFindings, prepareFindings } from '../findings/index.ts';
import type { Findings, FlowFinding, Incident } from '../findings/types.ts';
import { column, columnValueAsText, type CsvOptions, numericColumn, parseCsvFile } from '../ingest/index.ts';
import { CANONICAL, CsvFormatError, type FlowTable } from '../ingest/types.ts';
import { CHART_INPUTS_VERSION, CHART_KINDS, type ChartInputs, distributionData, renderStoredChart, type SampledChartPoints } from '../charts/index.ts';
import {
  anomalyRowsOf,
  DEFAULT_RECOMMENDATIONS,
  writeIncidentsBin,
  packAnomalyRowsJob,
  type ReportWorker,
  startReportWorker,
  type PointsJob,
  reportOnlyJob,
  writeAnomalyFiles,
  writeAnomalyRowsJob,
  writePoints,
  chartPointsInfo,
  type ChartPointsInfo,
  writeRowsFile,
  writeScoredDataset,
} from '../reports/index.ts';
import type { Logger } from '../logging/index.ts';
import { settleAll } from '../lib/settle.ts';
import { AnalysisStore } from '../storage/index.ts';
import type { AnalysisIncident, AnalysisParameters, AnalysisSummary, IncidentFlow } from './types.ts';

export interface RunAnalysisOptions {
  /** The file to analyse. Moved into the analysis folder (or copied when `keepInput`). */
  readonly inputPath: string;
  /** The user's file name, for display only. */
  readonly fileName: string;
  readonly parameters: AnalysisParameters;
  /** Chart settings come from here. */
  readonly config: Pick<Config, 'charts'>;
  readonly outputsDir: string;
  /** Use this store (shares its id reservations); default a store over `outputsDir`. */
  readonly store?: AnalysisStore;
  readonly logger?: Logger;
  /** Copy the input instead of moving it (CLI / bench on a file the caller keeps). */
  readonly keepInput?: boolean;
  /** Detector worker threads (default 2). */
  readonly workers?: number;
  /** Normal rows shown in the scatter (default 5000). */
  readonly maxNormalPoints?: number;
  /**
   * results.csv (every row, scored): 'eager' writes it now; 'lazy' writes rows.bin instead and the
   * download route writes results.csv from it when first asked (same bytes). Default: eager up to
   * EAGER_RESULTS_MAX_ROWS rows, lazy above.
   */
  readonly scoredDataset?: 'eager' | 'lazy';
  /**
   * The input already parsed from the same bytes with analysisCsvOptions(parameters.features)
   * (e.g. while it was uploaded): the parse step only checks it. Without it the file is parsed.
   */
  readonly table?: FlowTable;
  /**
   * Sample the chart points and write the anomaly report CSV on REPORT_WORKERS worker threads
   * (started while the detector fits), beside the main thread's work: same bytes as in-process.
   * Default: from REPORT_WORKER_MIN_ROWS rows up.
   */
  readonly reportWorker?: boolean;
  /**
   * The chart PNGs: 'eager' draws them into the analysis folder now; 'deferred' stores only what
   * they are drawn from (charts.json, points.json, the summary), for whoever serves them to draw
   * each when first asked for (same bytes; see charts/stored.ts). Default 'eager'.
   */
  readonly charts?: 'eager' | 'deferred';
}

/** How the pipeline parses its input for these features (a table given to runAnalysis must match). */
export function analysisCsvOptions(features: readonly string[]): CsvOptions {
  return { requiredColumns: features, numericColumns: features };
}

/** Up to this many rows, results.csv is written with the analysis (it takes a few milliseconds). */
export const EAGER_RESULTS_MAX_ROWS = 20_000;

/** From this many rows the report workers take their share (their start-up is hidden behind the fit). */
export const REPORT_WORKER_MIN_ROWS = 100_000;
/**
 * One report worker: it samples the chart points and prepares the anomaly report during the
 * findings, then writes the report. (A second one cost ~100 MB of peak memory for no gain on two cores.)
 */
const REPORT_WORKERS = 1;

/** Context columns shown with each anomaly, when the file has them. */
const CONTEXT_COLUMNS = [
  CANONICAL.timestamp,
  CANONICAL.sourceIp,
  CANONICAL.sourcePort,
  CANONICAL.destinationIp,
  CANONICAL.destinationPort,
  CANONICAL.protocol,
] as const;

const MAX_INCIDENT_ROWS = 200;
/** Evidence flows shown with each incident on the page. */
export const INCIDENT_SAMPLE_FLOWS = 10;
const TOP_ANOMALIES = 20;

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

class StepTimer {
  readonly timings: Record<string, number> = {};
  private last = performance.now();
  constructor(private readonly logger: Logger | undefined) {}
  mark(step: string, detail?: Record<string, unknown>): void {
    this.markAt(step, performance.now(), detail);
  }
  /** The step ended at `now` (a performance.now() reading not before the last mark). */
  markAt(step: string, now: number, detail?: Record<string, unknown>): void {
    const ms = round(Math.max(0, now - this.last), 1);
    this.timings[step] = ms;
    this.last = now;
    this.logger?.debug(`step ${step} ${ms}ms`, { step, ms, ...detail });
  }
}

/** Runs `task`, resolving with the time it ended. */
async function timed(task: () => Promise<unknown>): Promise<{ end: number }> {
  await task();
  return { end: performance.now() };
}

async function moveFile(from: string, to: string, keep: boolean): Promise<void> {
  if (keep) {
    await copyFile(from, to);
    return;
  }
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

/** Picks the scatter axes: the two features with the highest mean explanation weight among anomalies. */
export function chooseAxes(features: readonly string[], explanations: Iterable<Explanation> | ExplanationSet): [string, string] {
  const sums = new Map<string, number>(features.map((f) => [f, 0]));
  let n = 0;
  if (explanations instanceof ExplanationSet) {
    // The same sums from the arrays: each feature's weights added in the same order, row by row.
    const set = explanations;
    const total = new Float64Array(set.features.length);
    for (let p = 0; p < set.weight.length; p++) total[set.feature[p]] += set.weight[p];
    set.features.forEach((f, c) => {
      if (sums.has(f)) sums.set(f, sums.get(f)! + total[c]);
    });
    n = set.size;
  } else {
    for (const e of explanations) {
      n++;
      for (const c of e.contributions) if (sums.has(c.feature)) sums.set(c.feature, sums.get(c.feature)! + c.weight);
    }
  }
  if (features.length < 2) return [features[0], features[0]];
  if (n === 0) return [features[0], features[1]];
  const ranked = [...features].sort((a, b) => sums.get(b)! - sums.get(a)! || features.indexOf(a) - features.indexOf(b));
  return [ranked[0], ranked[1]];
}

/** Names of AnomalyRow.values: the features, then the context columns (those the file has are kept). */
function valueNames(features: readonly string[]): string[] {
  return [...features, ...CONTEXT_COLUMNS.filter((c) => !features.includes(c))];
}

function cutIncident(incident: Incident): Incident {
  return incident.rows.length > MAX_INCIDENT_ROWS ? { ...incident, rows: incident.rows.slice(0, MAX_INCIDENT_ROWS) } : incident;
}

/**
 * `rows` most severe first (severity down, then score up, then row): as given when already in that
 * order (findings gives them so; one pass checks it), else a sorted copy.
 */
export function bySeverity(rows: readonly number[], severity: Float64Array, scores: Float64Array): readonly number[] {
  const before = (a: number, b: number) => severity[b] - severity[a] || scores[a] - scores[b] || a - b;
  for (let k = 1; k < rows.length; k++) {
    if (before(rows[k - 1], rows[k]) > 0) return [...rows].sort(before);
  }
  return rows;
}

/** Builds an incident flow's values from the table's columns (looked up once). */
function incidentFlowReader(
  table: FlowTable,
  scores: Float64Array,
  severity: Float64Array,
  isAnomaly: Uint8Array,
  flows: ReadonlyMap<number, FlowFinding>,
): (row: number) => IncidentFlow {
  const text = (name: string) => {
    const col = column(table, name);
    return (row: number): string | null => {
      if (!col) return null;
      const t = columnValueAsText(table, col, row);
      return t === '' ? null : t;
    };
  };
  const number = (name: string) => {
    const col = column(table, name);
    return (row: number): number | null => {
      if (!col) return null;
      if (col.kind === 'numeric') return Number.isFinite(col.values[row]) ? col.values[row] : null;
      const t = columnValueAsText(table, col, row);
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : null;
    };
  };
  const timestamp = text(CANONICAL.timestamp);
  const sourceIp = text(CANONICAL.sourceIp);
  const sourcePort = number(CANONICAL.sourcePort);
  const destinationIp = text(CANONICAL.destinationIp);
  const destinationPort = number(CANONICAL.destinationPort);
  const protocol = text(CANONICAL.protocol);
  const bytes = number(CANONICAL.bytes);
  const packets = number(CANONICAL.packets);
  const duration = number(CANONICAL.duration);
  return (row) => ({
    row,
    line: table.lineNumbers[row],
    timestamp: timestamp(row),
    sourceIp: sourceIp(row),
    sourcePort: sourcePort(row),
    destinationIp: destinationIp(row),
    destinationPort: destinationPort(row),
    protocol: protocol(row),
    bytes: bytes(row),
    packets: packets(row),
    duration: duration(row),
    score: scores[row],
    severity: round(severity[row], 2),
    detector: isAnomaly[row] === 1,
    reason: flows.get(row)?.reason ?? '',
  });
}

/** Runs one analysis end to end and returns its summary (also written as summary.json). */
export async function runAnalysis(options: RunAnalysisOptions): Promise<AnalysisSummary> {
  const started = performance.now();
  const store = options.store ?? new AnalysisStore(options.outputsDir);
  const { id, dir } = await store.begin();
  const logger = options.logger?.child({ analysisId: id });
  const timer = new StepTimer(logger);
  const { features, contamination, nEstimators, randomState } = options.parameters;
  const file = (name: string) => path.join(dir, name);
  logger?.info(`analysis started: ${options.fileName}`, { fileName: options.fileName, features, contamination, nEstimators, randomState });
  let reportWorkers: ReportWorker[] = [];

  try {
    const inputPath = file('input.csv');
    await moveFile(options.inputPath, inputPath, options.keepInput ?? false);
    const fileBytes = (await stat(inputPath)).size;
    timer.mark('move', { bytes: fileBytes });

    const table = options.table ?? (await parseCsvFile(inputPath, analysisCsvOptions(features)));
    if (table.rowCount === 0) {
      throw new CsvFormatError('The file has a header but no data rows.', 2, null);
    }
    const columns = features.map((f) => {
      const col = numericColumn(table, f);
      if (!col) throw new CsvFormatError(`Missing required column "${f}".`, 1, null, f);
      return col.values;
    });
    timer.mark('parse', { rows: table.rowCount, parsedBefore: options.table !== undefined });
    if (options.reportWorker ?? table.rowCount >= REPORT_WORKER_MIN_ROWS) {
      reportWorkers = Array.from({ length: REPORT_WORKERS }, () => startReportWorker());
    }

    // fit runs on this thread up to handing the rows to the score workers; while they score, this
    // thread does the part of the findings that needs only the table.
    const fitting = AnomalyModel.fit(features, columns, { contamination, nEstimators, randomState }, { workers: options.workers ?? 2 });
    fitting.catch(() => undefined); // observed below
    const prelude = prepareFindings({ table });
    const fit = await fitting;
    const { model, scores, isAnomaly, severity } = fit;
    timer.mark('fit');

    const anomalous: number[] = [];
    for (let i = 0; i < isAnomaly.length; i++) if (isAnomaly[i] === 1) anomalous.push(i);
    anomalous.sort((a, b) => severity[b] - severity[a] || scores[a] - scores[b] || a - b);
    // Packed (typed arrays, no object per anomaly): findings, the axes and the anomaly rows read them so.
    const explanations = await model.explainPacked(columns, anomalous, { workers: options.workers ?? 2 });
    timer.mark('explain', { anomalies: anomalous.length });

    // The chart points (every anomaly and a sample of normal rows on the two axes that explain the
    // anomalies best) need nothing of the findings: the report worker samples them and writes
    // points.json on another core while this thread finds the incidents.
    const [xName, yName] = chooseAxes(features, explanations);
    const sameAxis = xName === yName;
    const pointsJob: PointsJob = {
      x: columns[features.indexOf(xName)],
      y: sameAxis ? scores : columns[features.indexOf(yName)],
      isAnomaly,
      severity,
      options: { maxNormal: options.maxNormalPoints ?? 5000, seed: randomState, xName, yName: sameAxis ? 'anomaly_score' : yName },
      outPath: file('points.json'),
    };
    const worker = reportWorkers.find((w) => w.alive);
    // In-process, the points themselves are at hand; a worker answers with their axes and counts
    // only (the summary needs no more), and eager charts read them back from points.json.
    const sampled: Promise<SampledChartPoints> | null = worker !== undefined ? null : writePoints(pointsJob);
    const pointsDone: Promise<ChartPointsInfo> = sampled !== null ? sampled.then(chartPointsInfo) : worker!.samplePoints(pointsJob);
    pointsDone.catch(() => undefined); // observed below (settleAll)
    // It also makes the anomaly report's findings-independent part now (each anomaly's original
    // record, score and explanation text: most of the report's work), from a job packed without
    // findings or value columns (that part reads neither), and adds the finding cells once the
    // findings exist.
    const reportJob = (flowFindings: ReadonlyMap<number, FlowFinding>, recommendationFor: (row: number) => string, names: readonly string[]) =>
      packAnomalyRowsJob({
        table,
        rows: anomalous,
        scores,
        severity,
        explanations,
        flowFindings,
        recommendationFor,
        outPath: file('anomalies.bin'),
        valueNames: names,
        report: { sourcePath: inputPath, outPath: file('anomalies.csv') },
      });
    const preparing = worker !== undefined ? worker.prepareReport(reportOnlyJob(reportJob(new Map(), () => '', []))) : null;
    preparing?.catch(() => undefined); // a failure surfaces when the report is written

    const findings: Findings = analyzeFindings({ table, features, scores, isAnomaly, severity, explanations, prelude });
    timer.mark('findings', { incidents: findings.incidents.length });

    const incidentById = new Map(findings.incidents.map((inc) => [inc.id, inc]));
    const recommendationFor = (row: number): string => {
      const finding = findings.flows.get(row);
      const incident = finding?.incidentId ? incidentById.get(finding.incidentId) : undefined;
      return incident?.mitigation.summary ?? DEFAULT_RECOMMENDATIONS[finding?.type ?? 'untyped'];
    };
    let behaviourOnly = 0;
    for (const row of findings.flows.keys()) if (isAnomaly[row] !== 1) behaviourOnly++;
    // Every incident's rows most severe first: its sample of flows for the page, and all of them
    // (with their positions in anomalies.bin) for incidents.bin.
    const incidentRows = findings.incidents.map((inc) => ({ id: inc.id, rows: bySeverity(inc.rows, severity, scores) }));
    const flowOf = incidentFlowReader(table, scores, severity, isAnomaly, findings.flows);
    const incidents: AnalysisIncident[] = findings.incidents.map((inc, k) => ({
      ...cutIncident(inc),
      flows: incidentRows[k].rows.slice(0, INCIDENT_SAMPLE_FLOWS).map(flowOf),
    }));
    const anomalyRank = new Int32Array(table.rowCount).fill(-1);
    for (let k = 0; k < anomalous.length; k++) anomalyRank[anomalous[k]] = k;
    // The anomaly files (anomalies.bin and the anomaly report CSV): one job of plain data, run in
    // the report worker when there is one (same bytes either way); the summary's top rows come
    // from the same data.
    const job = reportJob(findings.flows, recommendationFor, valueNames(features));
    const topAnomalies = anomalyRowsOf(job, TOP_ANOMALIES);
    // The report worker writes the anomaly report from what it prepared, adding the finding cells,
    // while this thread writes anomalies.bin and the other artifacts.
    const reportThere = worker?.alive ? worker.run(reportOnlyJob(job)) : null;
    reportThere?.catch(() => undefined); // observed below (settleAll)
    timer.mark('rows');

    // Charts, the anomaly files and the other artifacts depend on nothing of each other: they run
    // together, so one's file writes and PNG encoding overlap the others' work.
    const settings = options.config.charts;
    const lazyResults = options.scoredDataset === 'lazy' || (options.scoredDataset === undefined && table.rowCount > EAGER_RESULTS_MAX_ROWS);
    const chartInputs: ChartInputs = {
      version: CHART_INPUTS_VERSION,
      settings,
      distribution: distributionData(scores, isAnomaly, model.offset, settings.distribution.bins),
    };
    const phase = performance.now();
    // Deferred: whoever serves the charts draws them from charts.json, points.json and the summary.
    const charts =
      options.charts === 'deferred'
        ? Promise.resolve({ end: phase })
        : timed(async () => {
            const sources = {
              inputs: chartInputs,
              points: async (): Promise<SampledChartPoints> =>
                sampled ?? pointsDone.then(async () => JSON.parse(await readFile(pointsJob.outPath, 'utf8')) as SampledChartPoints),
              timeline: async () => ({ time: findings.time, incidents: findings.incidents }),
            };
            const pngs = await Promise.all(CHART_KINDS.map((kind) => renderStoredChart(kind, sources)));
            await settleAll(CHART_KINDS.map((kind, k) => writeFile(file(`${kind}.png`), pngs[k])));
          });
    // results.csv (every row) is written when first downloaded, from input.csv and rows.bin,
    // unless the file is small enough for it to cost nothing now.
    const reports = timed(() =>
      lazyResults
        ? writeRowsFile(file('rows.bin'), { table, scores, severity, isAnomaly, flowFindings: findings.flows })
        : writeScoredDataset({ sourcePath: inputPath, table, outPath: file('results.csv'), scores, severity, isAnomaly, flowFindings: findings.flows }),
    );
    const writes = timed(() =>
      settleAll([
        reportThere !== null ? writeAnomalyRowsJob(job) : writeAnomalyFiles(job),
        pointsDone.then(() => undefined),
        writeFile(file('charts.json'), JSON.stringify(chartInputs)),
        writeFile(file('model.json'), JSON.stringify(model.toJSON())),
        writeIncidentsBin(file('incidents.bin'), {
          table,
          incidents: incidentRows,
          scores,
          severity,
          isAnomaly,
          flowFindings: findings.flows,
          anomalyRank: (row) => anomalyRank[row],
        }),
        ...(reportThere !== null ? [reportThere] : []),
      ]),
    );
    const [chartsDone, reportsDone, writesDone] = await settleAll([charts, reports, writes]);
    const points = await pointsDone;
    for (const w of reportWorkers) void w.close().catch(() => undefined);
    reportWorkers = [];
    // Timings add up to the wall time: each step is what it added after the ones before it ended.
    timer.markAt('charts', chartsDone.end, { points: points.pointCount, ownMs: round(chartsDone.end - phase, 1) });
    timer.markAt('reports', Math.max(chartsDone.end, reportsDone.end), { ownMs: round(reportsDone.end - phase, 1), lazyResults });
    timer.markAt('write', Math.max(chartsDone.end, reportsDone.end, writesDone.end), { ownMs: round(writesDone.end - phase, 1) });

    const total = table.rowCount;
    const warnings = [...table.warnings, ...fit.warnings.map((w) => w.message)];
    const durationMs = round(performance.now() - started, 1);
    const summary: AnalysisSummary = {
      id,
      createdAt: new Date().toISOString(),
      fileName: options.fileName,
      fileBytes,
      durationMs,
      parameters: { features: [...features], contamination, nEstimators, randomState },
      statistics: {
        total_records: total,
        anomaly_count: anomalous.length,
        anomaly_percentage: total ? round((anomalous.length / total) * 100, 2) : 0,
      },
      offset: model.offset,
      warnings,
      featureStats: model.stats,
      topAnomalies,
      incidents,
      time: findings.time,
      recommendations: findings.recommendations,
      charts: {
        scatter: {
          x: points.x,
          y: points.y,
          normalShown: points.normalShown,
          normalTotal: points.normalTotal,
          anomalyShown: points.anomalyShown,
          anomalyTotal: points.anomalyTotal,
        },
        distribution: { bins: settings.distribution.bins },
        timeline: { available: findings.time.available },
      },
      timings: { ...timer.timings },
      behaviourOnly,
    };
    await writeFile(file('summary.json'), JSON.stringify(summary));
    await store.commit(id);
    timer.mark('commit');
    const done: AnalysisSummary = { ...summary, timings: { ...timer.timings } };
    logger?.info(`analysis finished: ${total} rows, ${anomalous.length} anomalies, ${findings.incidents.length} incidents in ${durationMs}ms`, {
      rows: total,
      anomalies: anomalous.length,
      incidents: findings.incidents.length,
      durationMs,
      timings: done.timings,
    });
    return done;
  } catch (err) {
    await Promise.all(reportWorkers.map((w) => w.close().catch(() => undefined)));
    reportWorkers = [];
    await store.abort(id).catch(() => undefined);
    if (!(options.keepInput ?? false)) await rm(options.inputPath, { force: true }).catch(() => undefined);
    logger?.warn(`analysis failed: ${(err as Error).message}`, { error: (err as Error).name });
    throw err;
  }
}
