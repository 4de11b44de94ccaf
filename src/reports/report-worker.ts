/**
 * Report worker (started by startReportWorker, report-runner.ts): writes an analysis's anomaly
 * files from an AnomalyRowsJob (report-job.ts), and samples the chart points and writes
 * points.json. Each request `{ id, kind, job }` is answered `{ id, ok: true, value }` or
 * `{ id, ok: false, message }`. Never loads the chart renderer (node-canvas must stay on the main
 * thread). Works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { type PointsJob, writePoints } from './points-job.ts';
import { type AnomalyRowsJob, writeAnomalyFiles } from './report-job.ts';

export type ReportWorkerRequest =
  | { readonly id: number; readonly kind: 'anomalies'; readonly job: AnomalyRowsJob }
  | { readonly id: number; readonly kind: 'points'; readonly job: PointsJob };

export type ReportWorkerReply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly message: string };

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: ReportWorkerRequest) => {
    const work: Promise<unknown> = msg.kind === 'anomalies' ? writeAnomalyFiles(msg.job) : writePoints(msg.job);
    work.then(
      (value) => port.postMessage({ id: msg.id, ok: true, value: msg.kind === 'anomalies' ? undefined : value } satisfies ReportWorkerReply),
      (err: unknown) => port.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ReportWorkerReply),
    );
  });
}
