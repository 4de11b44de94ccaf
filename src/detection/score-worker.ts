/**
 * Score worker: for a row range of a shared float32 matrix and a shared packed forest, writes sklearn
 * scores (kind 'score') or explanation credits (kind 'credits', cols per row) into a shared output.
 * Posts `{ ready: true }` once loaded. Started by pool.ts; works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { creditsRange } from './explain.ts';
import { scoreRange, type PackedForest } from './kernel.ts';

export interface WorkerTask {
  readonly kind: 'score' | 'credits';
  readonly id: number;
  readonly forest: PackedForest;
  readonly rows: Float32Array;
  readonly start: number;
  readonly end: number;
  readonly out: Float64Array;
  readonly chunkRows: number;
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (task: WorkerTask) => {
    try {
      if (task.kind === 'credits') creditsRange(task.forest, task.rows, task.start, task.end, task.out);
      else scoreRange(task.forest, task.rows, task.start, task.end, task.out, task.chunkRows);
      port.postMessage({ id: task.id, ok: true });
    } catch (error) {
      port.postMessage({ id: task.id, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  });
  port.postMessage({ ready: true });
}
