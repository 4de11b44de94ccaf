/**
 * Report worker (started by startReportWorker, report-runner.ts): writes an analysis's anomaly
 * files from an AnomalyRowsJob (report-job.ts), and samples the chart points and writes
 * points.json. Each request `{ id, kind, job }` is answered `{ id, ok: true, value }` or
 * `{ id, ok: false, message }`. Never loads the chart renderer (node-canvas must stay on the main
 * thread). Works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { chartPointsInfo, type PointsJob, writePoints } from './points-job.ts';
import { type AnomalyRowsJob, prepareAnomalyReportJob, writeAnomalyFiles } from './report-job.ts';
import type { PreparedReport } from './writers.ts';

export type ReportWorkerRequest =
  | { readonly id: number; readonly kind: 'anomalies'; readonly job: AnomalyRowsJob }
  | { readonly id: number; readonly kind: 'prepare-report'; readonly job: AnomalyRowsJob }
  | { readonly id: number; readonly kind: 'points'; readonly job: PointsJob };

export type ReportWorkerReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly message: string };

/** Reports prepared before the findings (prepare-report), by the path they will be written to. */
const prepared = new Map<string, Promise<PreparedReport>>();

/** The job's files, its report from what was prepared for it when there is. */
function writeFiles(job: AnomalyRowsJob): Promise<void> {
  const key = job.report?.outPath;
  const ready = key !== undefined ? prepared.get(key) : undefined;
  if (ready !== undefined) prepared.delete(key!);
  return writeAnomalyFiles(job, ready);
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: ReportWorkerRequest) => {
    let work: Promise<unknown>;
    if (msg.kind === 'prepare-report') {
      const ready = prepareAnomalyReportJob(msg.job);
      prepared.set(msg.job.report!.outPath, ready);
      work = ready;
    } else work = msg.kind === 'anomalies' ? writeFiles(msg.job) : writePoints(msg.job).then(chartPointsInfo);
    work.then(
      (value) => port.postMessage({ id: msg.id, ok: true, value: msg.kind === 'points' ? value : undefined } satisfies ReportWorkerReply),
      (err: unknown) => port.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ReportWorkerReply),
    );
  });
}
