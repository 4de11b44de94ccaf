/**
 * Score worker: for a row range of a shared float32 matrix and a shared packed forest, writes sklearn
 * scores (kind 'score') or explanation credits (kind 'credits', cols per row) into a shared output.
 * Posts `{ ready: true }` once loaded and warmed up. Started by pool.ts; works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { creditsRange } from './explain.ts';
import { packForest, scoreRange, type PackedForest } from './kernel.ts';
import { Random, sampleWithoutReplacement } from './random.ts';
import { growTree } from './tree.ts';

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

/**
 * Run the hot loops once on a small synthetic forest (seeded, ~40 ms), so that the first real task
 * finds them optimised instead of paying the JIT's warm-up (measured: ~400 ms of CPU on a 1M-row fit).
 */
function warmUp(): void {
  const rng = new Random(20240115);
  const n = 8192;
  const cols = 4;
  const x = new Float32Array(new SharedArrayBuffer(n * cols * 4));
  for (let i = 0; i < x.length; i++) x[i] = rng.nextDouble() + rng.nextDouble() - 1;
  const features = Int32Array.from({ length: cols }, (_, j) => j);
  const trees = Array.from({ length: 25 }, () => growTree(x, cols, sampleWithoutReplacement(rng, n, 256), features, 8, rng));
  const forest = packForest(trees, cols, 256);
  scoreRange(forest, x, 0, n, new Float64Array(new SharedArrayBuffer(n * 8)));
  creditsRange(forest, x, 0, 2048, new Float64Array(new SharedArrayBuffer(2048 * cols * 8)));
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
  warmUp();
  port.postMessage({ ready: true });
}
