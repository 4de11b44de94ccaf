/**
 * Report worker: writes anomalies.bin (and the anomaly report CSV when the job has it) from one AnomalyRowsJob (report-job.ts) per message and
 * answers { ok: true } or { ok: false, message }. Started by startReportWorker() (report-runner.ts);
 * works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { type AnomalyRowsJob, writeAnomalyFiles } from './report-job.ts';

if (parentPort) {
  const port = parentPort;
  port.on('message', (msg: { id: number; job: AnomalyRowsJob }) => {
    writeAnomalyFiles(msg.job).then(
      () => port.postMessage({ id: msg.id, ok: true }),
      (err: unknown) => port.postMessage({ id: msg.id, ok: false, message: err instanceof Error ? err.message : String(err) }),
    );
  });
}
