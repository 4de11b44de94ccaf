/**
 * A small persistent pool of score workers (worker_threads). Workers are started on first use, kept
 * for later analyses, unref'd while idle so they never keep the process alive, and closed with
 * `closeScorePool()`. Forest and rows travel as SharedArrayBuffer views: nothing is copied.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PackedForest } from './kernel.ts';
import type { ScoreTask } from './score-worker.ts';

const EXT = extname(fileURLToPath(import.meta.url));
const WORKER_URL = new URL(`./score-worker${EXT}`, import.meta.url);

/**
 * Compiled (dist/…/*.js), the worker file is started directly. Under tsx (`node --import tsx`, .ts
 * sources), tsx's loader only registers itself on the main thread, so the worker is started from a
 * small bootstrap that registers tsx's ESM hooks first and then imports score-worker.ts.
 */
function startWorker(): Worker {
  if (EXT !== '.ts') return new Worker(WORKER_URL);
  const api = import.meta.resolve('tsx/esm/api');
  const code =
    "const { workerData } = require('node:worker_threads');" +
    'import(workerData.api).then((m) => { m.register(); return import(workerData.url); });';
  return new Worker(code, { eval: true, workerData: { api, url: WORKER_URL.href } });
}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

class PoolWorker {
  readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;

  constructor() {
    this.worker = startWorker();
    this.worker.unref();
    this.worker.on('message', (msg: { id: number; ok: boolean; message?: string }) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.ok) p.resolve();
      else p.reject(new Error(`Score worker failed: ${msg.message}`));
    });
    const fail = (e: Error) => {
      this.dead = e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`Score worker exited with code ${code}`)));
  }

  get alive(): boolean {
    return this.dead === null;
  }

  run(task: ScoreTask): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<void>((resolve, reject) => {
      this.pending.set(task.id, { resolve, reject });
      this.worker.ref(); // keep the process alive while work is in flight
      this.worker.postMessage(task);
    });
  }
}

let workers: PoolWorker[] = [];
let nextId = 1;

/** Worker count used when none is given: up to 2, bounded by the machine's parallelism. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

function getWorkers(n: number): PoolWorker[] {
  workers = workers.filter((w) => w.alive);
  while (workers.length < n) workers.push(new PoolWorker());
  return workers.slice(0, n);
}

/**
 * Score rows [0, nRows) of a shared float32 matrix on `n` workers, into a shared Float64Array.
 * Rows are split into n contiguous ranges; results equal single-threaded scoring exactly.
 */
export async function scoreParallel(
  forest: PackedForest,
  rows: Float32Array,
  nRows: number,
  out: Float64Array,
  n: number,
  chunkRows: number,
): Promise<void> {
  if (!(rows.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
    throw new Error('scoreParallel needs rows and output on SharedArrayBuffers');
  }
  const ws = getWorkers(n);
  const per = Math.ceil(nRows / n);
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const start = i * per;
    const end = Math.min(nRows, start + per);
    if (start >= end) break;
    jobs.push(ws[i].run({ id: nextId++, forest, rows, start, end, out, chunkRows }));
  }
  await Promise.all(jobs);
}

/** Terminate the pool's workers (they are re-created on next use). */
export async function closeScorePool(): Promise<void> {
  const ws = workers;
  workers = [];
  await Promise.all(ws.map((w) => w.worker.terminate()));
}

/** Copy (and float32-round) any matrix into a SharedArrayBuffer-backed Float32Array. */
export function toSharedFloat32(data: ArrayLike<number>): Float32Array {
  const out = new Float32Array(new SharedArrayBuffer(Math.max(1, data.length) * 4), 0, data.length);
  out.set(data);
  return out;
}

export function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8), 0, n);
}
