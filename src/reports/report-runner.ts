/**
 * A report worker for one analysis: started early (while the detector fits), given the packed
 * AnomalyRowsJob once the anomalies are known, and terminated when done: anomalies.bin and the
 * anomaly report CSV (every anomaly's original record, explanation and recommendation as text) are
 * then made on another core, beside the other artifacts, instead of after them on the main thread.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../lib/worker.ts';
import type { AnomalyRowsJob } from './report-job.ts';

export interface ReportWorker {
  /** False once the worker failed to start, died or was closed. */
  readonly alive: boolean;
  /** Runs the job (once); rejects when the job fails or the worker dies. */
  run(job: AnomalyRowsJob): Promise<void>;
  /** Stops the worker (after run settles, or to give up on it). */
  close(): Promise<void>;
}

/** Starts a report worker; it loads while the caller goes on. */
export function startReportWorker(): ReportWorker {
  const worker: Worker = startModuleWorker('report-worker', import.meta.url);
  let dead: Error | null = null;
  let settle: { resolve: () => void; reject: (e: Error) => void } | null = null;
  worker.on('message', (msg: { ok?: boolean; message?: string }) => {
    if (!settle) return;
    const s = settle;
    settle = null;
    if (msg.ok) s.resolve();
    else s.reject(new Error(`Report worker failed: ${msg.message}`));
  });
  const fail = (e: Error) => {
    dead ??= e;
    settle?.reject(e);
    settle = null;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`Report worker exited with code ${code}`)));
  return {
    get alive() {
      return dead === null;
    },
    run(job) {
      if (dead) return Promise.reject(dead);
      if (settle) return Promise.reject(new Error('Report worker is busy'));
      return new Promise<void>((resolve, reject) => {
        settle = { resolve, reject };
        worker.postMessage({ id: 1, job });
      });
    },
    async close() {
      dead ??= new Error('Report worker closed');
      await worker.terminate();
    },
  };
}
