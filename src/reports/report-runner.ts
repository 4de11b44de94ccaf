/**
 * A report worker for one analysis: started early (while the detector fits) and terminated when
 * the analysis is done. It takes work off the main thread on another core: the chart points are
 * sampled and points.json written while the main thread finds the incidents, and anomalies.bin and
 * the anomaly report CSV (every anomaly's original record, explanation and recommendation as text)
 * are made beside the other artifacts instead of after them.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../lib/worker.ts';
import type { AnomalyRowsJob } from './report-job.ts';
import type { ChartPointsInfo, PointsJob } from './points-job.ts';
import type { ReportWorkerReply, ReportWorkerRequest } from './report-worker.ts';

export interface ReportWorker {
  /** False once the worker failed to start, died or was closed. */
  readonly alive: boolean;
  /** Writes the job's files; rejects when the job fails or the worker dies. */
  run(job: AnomalyRowsJob): Promise<void>;
  /**
   * Prepares the job's anomaly report (its findings-independent part, see prepareAnomalyReportJob)
   * for a later run() of a job with the same report path; resolves when prepared.
   */
  prepareReport(job: AnomalyRowsJob): Promise<void>;
  /**
   * Samples the chart points (sampleChartPoints) and writes them as JSON to `outPath`; gives back
   * what the summary needs of them (axes, counts), not the points.
   */
  samplePoints(job: PointsJob): Promise<ChartPointsInfo>;
  /** Stops the worker (after the jobs settle, or to give up on them). */
  close(): Promise<void>;
}

/** Starts a report worker; it loads while the caller goes on. */
export function startReportWorker(): ReportWorker {
  const worker: Worker = startModuleWorker('report-worker', import.meta.url);
  let dead: Error | null = null;
  let nextId = 1;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: Error) => void }>();
  worker.on('message', (msg: ReportWorkerReply) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new Error(`Report worker failed: ${msg.message}`));
  });
  const fail = (e: Error) => {
    dead ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`Report worker exited with code ${code}`)));
  const call = <T>(request: Omit<ReportWorkerRequest, 'id'>): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      worker.postMessage({ ...request, id } as ReportWorkerRequest);
    });
  };
  return {
    get alive() {
      return dead === null;
    },
    run: (job) => call<void>({ kind: 'anomalies', job }),
    prepareReport: (job) => call<void>({ kind: 'prepare-report', job }),
    samplePoints: (job) => call<ChartPointsInfo>({ kind: 'points', job }),
    async close() {
      dead ??= new Error('Report worker closed');
      await worker.terminate();
    },
  };
}
