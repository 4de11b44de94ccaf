/**
 * Score worker: scores a row range of a shared float32 matrix with a shared packed forest and writes
 * sklearn scores into a shared output. Started by pool.ts; works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { scoreRange, type PackedForest } from './kernel.ts';

export interface ScoreTask {
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
  port.on('message', (task: ScoreTask) => {
    try {
      scoreRange(task.forest, task.rows, task.start, task.end, task.out, task.chunkRows);
      port.postMessage({ id: task.id, ok: true });
    } catch (error) {
      port.postMessage({ id: task.id, ok: false, message: error instanceof Error ? error.message : String(error) });
    }
  });
}
