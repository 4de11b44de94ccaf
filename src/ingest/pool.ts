/**
 * Parse workers (parse-worker.ts) for uploads' parses (threaded.ts), kept from one parse to the
 * next. A fresh thread loads and compiles the parser and runs it cold at the moment an upload's
 * bytes arrive; `warmParsePool()` instead starts the pool's workers ahead of time (at server start)
 * and has each parse a small generated CSV (warm.ts), so the first upload finds them hot.
 *
 * A parse takes idle workers (`takeParseWorkers`) and releases them when it ends: a pool worker
 * that owes no answer (its parse ended, or was aborted between batches) is reset and kept; one that
 * failed, was still parsing, or parsed the whole file (the fallback), is terminated and replaced by
 * a fresh pool worker when one is next needed. With no idle pool worker (parses at the same time, a pool never warmed: tests, the CLI) a
 * parse gets fresh workers, terminated after it, as before the pool: the outcome never depends on
 * the pool. A worker keeps the process alive only while a parse or its warm-up awaits it, never
 * while idle; `closeParsePool()` terminates the idle ones (those in use end with their parse).
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../lib/worker.ts';
import type { ParseWorkerMessage, ParseWorkerResult } from './parse-worker.ts';
import { WARM_ROWS } from './warm.ts';

/** Pool workers when warmParsePool is not told: the two an upload's parse uses. */
export const PARSE_POOL_WORKERS = 2;

/** An answer to a question (`ask`): the part of an ended parse, some of its columns read again as text, or the parse of the whole file. */
export type ParseWorkerAnswer = Extract<ParseWorkerResult, { kind: 'part' | 'text' | 'file' }>;

/** A question to a worker: answered, in order, by a ParseWorkerAnswer (AnswerTo). */
export type ParseWorkerQuestion = Extract<ParseWorkerMessage, { kind: 'end' | 'text' | 'file' }>;

/** The answer to a question: `end` gets the `part`, `text` and `file` an answer of their kind. */
export type AnswerTo<Q extends ParseWorkerQuestion> = Extract<ParseWorkerAnswer, { kind: { end: 'part'; text: 'text'; file: 'file' }[Q['kind']] }>;

/** The parse using a worker: told of each batch it has parsed, and of its failure. */
export interface ParseWorkerUser {
  parsed(batch: number): void;
  failed(err: Error): void;
}

/**
 * A parse worker thread and what it owes: its warm-up, the answers asked for (in order) and its
 * batches' reports. It keeps the process alive only while it owes something (like a pending
 * timer: the answer is awaited), never while idle or waiting for more bytes.
 */
export class ParseWorker {
  readonly thread: Worker;
  /** Settles when the warm-up is done (at once when none was asked); rejects if it failed. */
  readonly warmed: Promise<void>;
  /** The warm-up's rows parsed: null before it ends, or when it gave way to a parse. */
  warmedRows: number | null = null;
  /** Set when the worker is leased: a warm-up still running gives way (see warm.ts). */
  private readonly stopWarmUp = new Int32Array(new SharedArrayBuffer(4));
  private user: ParseWorkerUser | null = null;
  private readonly waiting: ((msg: ParseWorkerAnswer) => void)[] = [];
  /** Batches sent whole whose `parsed` report has not come back. */
  private unreported = 0;
  /** The last piece sent left its batch open (the worker holds part of a batch). */
  private midBatch = false;
  private stopping = false;
  private failure: Error | null = null;
  /**
   * False once it parsed a whole file (the parse's fallback): that table's arrays are transferred,
   * which detaches ArrayBuffers and leaves the thread's typed-array code slower (see zeroFloat64).
   */
  private keep = true;
  private warming: boolean;
  private refed = true;
  private endWarmUp: (err: Error | null) => void = () => {};

  constructor(
    /** A pool worker (kept after a clean parse) or an extra one (terminated after its parse). */
    readonly pooled: boolean,
    warmRows: number,
    private readonly onGone: (w: ParseWorker) => void,
  ) {
    this.thread = startModuleWorker('parse-worker', import.meta.url);
    this.warming = warmRows > 0;
    this.warmed = new Promise<void>((resolve, reject) => {
      this.endWarmUp = (err) => {
        this.warming = false;
        if (err === null) resolve();
        else reject(err);
      };
    });
    this.warmed.catch(() => undefined); // observed through warmParsePool()
    if (warmRows > 0) this.thread.postMessage({ kind: 'warm', rows: warmRows, stop: this.stopWarmUp } satisfies ParseWorkerMessage);
    else this.endWarmUp(null);
    this.thread.on('message', (msg: ParseWorkerResult) => {
      if (msg.kind === 'parsed') {
        this.unreported--;
        this.user?.parsed(msg.batch);
      } else if (msg.kind === 'warmed') {
        if (msg.ok) this.warmedRows = msg.rows;
        this.endWarmUp(msg.ok ? null : new Error(`parse worker warm-up failed: ${msg.message}`));
      } else {
        this.waiting.shift()?.(msg);
      }
      this.holdProcess();
    });
    this.thread.on('error', (err) => this.fail(err));
    this.thread.on('exit', () => this.fail(new Error('a parse worker stopped')));
    // After the listeners: adding a 'message' listener refs the worker's port again (Node 20).
    this.holdProcess();
  }

  /** Refs the thread while it owes something, else unrefs it (see the class comment). */
  private holdProcess(): void {
    const owes = this.alive && (this.warming || this.unreported > 0 || this.waiting.length > 0);
    if (owes === this.refed) return;
    this.refed = owes;
    if (owes) this.thread.ref();
    else this.thread.unref();
  }

  /** Neither failed nor terminated. */
  get alive(): boolean {
    return this.failure === null && !this.stopping;
  }

  /** Alive and owing nothing: every message sent so far is done with, so a reset can follow. */
  get settled(): boolean {
    return this.alive && this.unreported === 0 && !this.midBatch && this.waiting.length === 0;
  }

  /** Hands the worker to a parse: the parse's hold on it, until released. */
  lease(user: ParseWorkerUser): ParseWorkerLease {
    this.user = user;
    Atomics.store(this.stopWarmUp, 0, 1);
    return new ParseWorkerLease(this);
  }

  post(msg: ParseWorkerMessage): void {
    if (!this.alive) return;
    if (msg.kind === 'piece') {
      if (msg.closes) this.unreported++;
      this.midBatch = !msg.closes;
    }
    this.thread.postMessage(msg);
    this.holdProcess();
  }

  ask<Q extends ParseWorkerQuestion>(msg: Q): Promise<AnswerTo<Q>> {
    return new Promise((resolve) => {
      if (!this.alive) return; // its failure was reported: the parse has ended
      if (msg.kind === 'file') this.keep = false;
      // The worker answers each question with its answer's kind, in order.
      this.waiting.push(resolve as (msg: ParseWorkerAnswer) => void);
      this.post(msg);
    });
  }

  /**
   * The parse is over (its merge done): back to the pool when it can take another parse as it took
   * this one, else terminated. A worker kept is told to reset, which also has it collect the
   * parse's garbage at once (parse-worker.ts): idle, it would hold the part's memory until its
   * next parse.
   */
  release(): void {
    this.user = null;
    if (this.pooled && this.keep && this.settled && returnToPool(this)) {
      this.post({ kind: 'reset' });
      return;
    }
    void this.stop();
  }

  stop(): Promise<unknown> {
    if (this.stopping) return Promise.resolve();
    this.stopping = true;
    this.endWarmUp(null); // no longer wanted
    this.holdProcess();
    this.onGone(this);
    return this.thread.terminate();
  }

  private fail(err: Error): void {
    if (this.stopping || this.failure !== null) return;
    this.failure = err;
    this.endWarmUp(err);
    this.holdProcess();
    this.onGone(this);
    this.user?.failed(err);
  }
}

/**
 * A parse's hold on a worker. Once released it does nothing more (a parse still collecting answers
 * after it was aborted must not reach a worker that went on to another parse): a question then
 * never gets an answer, as the parse has already ended.
 */
export class ParseWorkerLease {
  constructor(private worker: ParseWorker | null) {}

  post(msg: ParseWorkerMessage): void {
    this.worker?.post(msg);
  }

  ask<Q extends ParseWorkerQuestion>(msg: Q): Promise<AnswerTo<Q>> {
    return this.worker === null ? new Promise(() => undefined) : this.worker.ask(msg);
  }

  /** The parse is over: see ParseWorker.release. */
  release(): void {
    const w = this.worker;
    this.worker = null;
    w?.release();
  }
}

/** Pool workers wanted (0 until warmParsePool), those alive, and those of them idle. */
let size = 0;
const members = new Set<ParseWorker>();
let idle: ParseWorker[] = [];
let startedPooled = 0;
let startedExtra = 0;

function forget(w: ParseWorker): void {
  members.delete(w);
  idle = idle.filter((x) => x !== w);
}

function startMember(warmRows: number): ParseWorker {
  const w = new ParseWorker(true, warmRows, forget);
  members.add(w);
  startedPooled++;
  return w;
}

/** A pool worker whose parse ended cleanly: idle again, unless the pool was closed meanwhile. */
function returnToPool(w: ParseWorker): boolean {
  if (!members.has(w)) return false;
  idle.push(w);
  return true;
}

/**
 * `n` workers for one parse, attached to it: idle pool workers first (a warming one included: its
 * warm-up gives way, and the parse follows), then new pool workers in place of lost ones, then
 * extras.
 */
export function takeParseWorkers(n: number, user: ParseWorkerUser): ParseWorkerLease[] {
  const taken: ParseWorker[] = [];
  while (taken.length < n && idle.length > 0) taken.push(idle.shift() as ParseWorker);
  while (taken.length < n && members.size < size) taken.push(startMember(0));
  while (taken.length < n) {
    taken.push(new ParseWorker(false, 0, () => undefined));
    startedExtra++;
  }
  return taken.map((w) => w.lease(user));
}

/**
 * Starts the pool's `n` workers (default 2) if not running, each warmed up on `warmRows` generated
 * rows (warm.ts); resolves when all of them are warm (rejects if a warm-up failed: the workers are
 * still usable). Idempotent. Call it at start-up, without waiting for it: a parse that starts
 * meanwhile takes a warming worker, whose warm-up stops early to let it run.
 */
export async function warmParsePool(n: number = PARSE_POOL_WORKERS, warmRows: number = WARM_ROWS): Promise<void> {
  size = Math.max(size, Math.floor(n));
  while (members.size < size) idle.push(startMember(warmRows));
  await Promise.all([...members].map((w) => w.warmed));
}

/** Terminates the idle pool workers; those in use are terminated when their parse ends. warmParsePool starts a new pool. */
export async function closeParsePool(): Promise<void> {
  const stopping = idle;
  size = 0;
  members.clear();
  idle = [];
  await Promise.all(stopping.map((w) => w.stop()));
}

export interface ParsePoolStatus {
  /** Pool workers wanted (0 before warmParsePool and after closeParsePool). */
  readonly size: number;
  /** The pool's workers alive (idle or in use), and those idle. */
  readonly members: readonly ParseWorker[];
  readonly idle: readonly ParseWorker[];
  /** Workers started so far: for the pool, and as extras for one parse. */
  readonly startedPooled: number;
  readonly startedExtra: number;
}

/** For tests and diagnostics. */
export function parsePoolStatus(): ParsePoolStatus {
  return { size, members: [...members], idle: [...idle], startedPooled, startedExtra };
}
