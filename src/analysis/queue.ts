/**
 * A small in-process queue for analyses: `concurrency` run at once (1 per process by default), at
 * most `maxWaiting` wait behind them; beyond that `run` rejects with QueueFullError (answered 503).
 * Tasks are plain async functions, so a later change can hand them to worker threads unchanged.
 */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly waiting: number, readonly limit: number) {
    super(`The server is busy: ${waiting} analyses are already waiting (limit ${limit}). Try again shortly.`);
  }
}

export class QueueClosedError extends Error {
  override readonly name = 'QueueClosedError';
  constructor() {
    super('The server is shutting down and accepts no new analyses.');
  }
}

export interface QueueOptions {
  readonly concurrency?: number;
  readonly maxWaiting?: number;
}

interface Job {
  readonly task: () => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

export class AnalysisQueue {
  readonly concurrency: number;
  readonly maxWaiting: number;
  private readonly jobs: Job[] = [];
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(options: QueueOptions = {}) {
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.maxWaiting = Math.max(0, options.maxWaiting ?? 8);
  }

  get running(): number {
    return this.active;
  }

  get waiting(): number {
    return this.jobs.length;
  }

  /** Runs `task` when a slot is free; rejects at once if too many are waiting or the queue is closed. */
  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new QueueClosedError());
    if (this.active >= this.concurrency && this.jobs.length >= this.maxWaiting) {
      return Promise.reject(new QueueFullError(this.jobs.length, this.maxWaiting));
    }
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ task, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  /** Stops accepting work; resolves when everything accepted so far has finished. */
  close(): Promise<void> {
    this.closed = true;
    return this.onIdle();
  }

  onIdle(): Promise<void> {
    if (this.active === 0 && this.jobs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.active < this.concurrency && this.jobs.length > 0) {
      const job = this.jobs.shift()!;
      this.active++;
      let promise: Promise<unknown>;
      try {
        promise = job.task();
      } catch (err) {
        promise = Promise.reject(err);
      }
      promise.then(job.resolve, job.reject).finally(() => {
        this.active--;
        this.pump();
        if (this.active === 0 && this.jobs.length === 0) {
          const waiters = this.idleWaiters;
          this.idleWaiters = [];
          for (const w of waiters) w();
        }
      });
    }
  }
}
