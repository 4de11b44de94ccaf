/**
 * A small persistent pool of score workers (worker_threads). Workers are started on first use (or
 * ahead of time with `warmScorePool()`), kept for later analyses, unref'd while idle so they never
 * keep the process alive, and closed with `closeScorePool()`. Forest and rows travel as
 * SharedArrayBuffer views: nothing is copied. Workers score rows and compute explanation credits.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../lib/worker.ts';
import { availableParallelism } from 'node:os';
import type { PackedForest } from './kernel.ts';
import { featureStats, fitImputeScale, transformColumns } from './preprocess.ts';
import { Random } from './random.ts';
import type { WorkerTask } from './score-worker.ts';

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
}

class PoolWorker {
  readonly worker: Worker;
  /** Settles when the worker has loaded its code and can take tasks (tsx start-up takes a while). */
  readonly ready: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | null = null;

  constructor() {
    this.worker = startModuleWorker('score-worker', import.meta.url);
    let markReady: () => void = () => {};
    let failReady: (e: Error) => void = () => {};
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => {}); // observed through run() / warmScorePool()
    this.worker.on('message', (msg: { id: number; ok: boolean; message?: string; ready?: true }) => {
      if (msg.ready) {
        // Ref'd while it starts (whoever waits for it keeps the process alive), then only while a
        // task is in flight. (Unref'd before the 'message' listener was added, it stayed ref'd:
        // adding that listener refs a worker, and an idle pool kept the process from exiting.)
        if (this.pending.size === 0) this.worker.unref();
        markReady();
        return;
      }
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.ok) p.resolve();
      else p.reject(new Error(`Score worker failed: ${msg.message}`));
    });
    const fail = (e: Error) => {
      this.dead = e;
      failReady(e);
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`Score worker exited with code ${code}`)));
  }

  get alive(): boolean {
    return this.dead === null;
  }

  run(task: WorkerTask): Promise<void> {
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
 * Start `n` pool workers (default: defaultWorkers()) ahead of use and resolve when all of them are
 * ready — loaded, and their scoring and explanation loops run once on a small synthetic forest — so
 * that the first fit pays neither thread start-up nor JIT warm-up. While they start, this thread runs
 * its own preprocessing loops once on synthetic data (a few ms). Idempotent; workers stay unref'd.
 */
export async function warmScorePool(n: number = defaultWorkers()): Promise<void> {
  if (!(n >= 1)) return;
  const ready = Promise.all(getWorkers(Math.floor(n)).map((w) => w.ready));
  if (!mainWarm) {
    mainWarm = true;
    warmPreprocessing();
  }
  await ready;
}

let mainWarm = false;

/** Preprocessing (imputation, scaling, statistics with the selection's bucketed path) once on 32,768 seeded rows. */
function warmPreprocessing(): void {
  const rng = new Random(7);
  const columns = [0, 1, 2].map(() => Float64Array.from({ length: 32_768 }, () => Math.exp(4 * rng.nextDouble())));
  const { scaler, std } = fitImputeScale(columns);
  transformColumns(columns, scaler, true);
  columns.forEach((c, i) => featureStats('warm-up', c, scaler.mean[i], std[i]));
}

/**
 * Split [0, nRows) into `parts` contiguous ranges (default one per worker) and run one task per
 * range on `n` workers, range i on worker i mod n (a worker takes its ranges in turn).
 */
async function runSplit(
  nRows: number,
  n: number,
  task: (id: number, start: number, end: number) => WorkerTask,
  parts: number = n,
): Promise<void> {
  const ws = getWorkers(n);
  const per = Math.ceil(nRows / parts);
  const jobs: Promise<void>[] = [];
  for (let i = 0; i < parts; i++) {
    const start = i * per;
    const end = Math.min(nRows, start + per);
    if (start >= end) break;
    jobs.push(ws[i % n].run(task(nextId++, start, end)));
  }
  await Promise.all(jobs);
}

/**
 * Ranges per worker for explanation credits. The rows come most severe first, and a row's walk
 * gets cheaper the sooner the trees isolate it: one contiguous half each gave one worker
 * ~70 % more work than the other (measured on 50,000 anomalies); interleaved quarters even it out.
 */
const CREDIT_PARTS_PER_WORKER = 4;

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
  await runSplit(nRows, n, (id, start, end) => ({ kind: 'score', id, forest, rows, start, end, out, chunkRows }));
}

/**
 * Explanation credits (see explain.ts) of rows [0, nRows) of a shared float32 matrix on `n` workers,
 * into a shared Float64Array of nRows × cols; equal to computing them on one thread.
 */
export async function creditsParallel(forest: PackedForest, rows: Float32Array, nRows: number, out: Float64Array, n: number): Promise<void> {
  if (!(rows.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
    throw new Error('creditsParallel needs rows and output on SharedArrayBuffers');
  }
  await runSplit(nRows, n, (id, start, end) => ({ kind: 'credits', id, forest, rows, start, end, out, chunkRows: 0 }), n * CREDIT_PARTS_PER_WORKER);
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
