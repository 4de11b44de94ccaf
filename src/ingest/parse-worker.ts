/**
 * Parse worker: parses its share of a CSV's batches on its own thread (a PartParser), so a file is
 * parsed by several threads while the main thread is busy receiving it. Messages in:
 * `{ kind: 'start', options }`, then the splitter's `header` and `piece` messages (each batch's
 * last piece answered by `{ kind: 'parsed', batch }` once parsed), then `{ kind: 'end', source }`,
 * answered by `{ kind: 'part', result }` (its arrays shared, not copied); then, from the merge,
 * `{ kind: 'text', source, request }`, answered by `{ kind: 'text', ok, ... }`: some columns of its
 * part read again from the file as text (reread.ts: a column that turned to text in other parts
 * only); or `{ kind: 'file', source }`, answered by `{ kind: 'file', ok, ... }`: the whole file
 * parsed with parseCsvFile (when the parts do not settle the table). A worker serves one parse
 * after another (pool.ts): `{ kind: 'reset' }` (the parse is over) drops what it left and collects
 * its garbage, and a `start` begins from scratch. `{ kind: 'warm', rows, stop }`, answered by
 * `{ kind: 'warmed', ... }`, runs the parser on generated rows (warm.ts) so that the next parse
 * finds it compiled. Started by pool.ts; works under tsx and compiled.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { type CsvParserOptions, parseCsvFile } from './csv.ts';
import { PartParser, type PartResult } from './part.ts';
import { type PartText, readPartText, type TextRequest } from './reread.ts';
import type { PartMessage } from './split.ts';
import { type Column, CsvFormatError, type FlowTable } from './types.ts';
import { warmParse } from './warm.ts';

export type ParseWorkerMessage =
  | { readonly kind: 'start'; readonly options: CsvParserOptions }
  | PartMessage
  | { readonly kind: 'end'; readonly source: string }
  | { readonly kind: 'text'; readonly source: string; readonly request: TextRequest }
  | { readonly kind: 'file'; readonly source: string }
  | { readonly kind: 'reset' }
  /** `stop[0]` turns 1 when a parse is waiting for this worker: the warm-up then ends early. */
  | { readonly kind: 'warm'; readonly rows: number; readonly stop: Int32Array };

export type ParseWorkerResult =
  /** Sent as each batch is parsed (the splitter gives new batches to the least busy worker). */
  | { readonly kind: 'parsed'; readonly batch: number }
  | { readonly kind: 'part'; readonly result: PartResult }
  | { readonly kind: 'text'; readonly ok: true; readonly texts: readonly PartText[] }
  | { readonly kind: 'text'; readonly ok: false; readonly message: string }
  | { readonly kind: 'file'; readonly ok: true; readonly table: FlowTable }
  | {
      readonly kind: 'file';
      readonly ok: false;
      readonly message: string;
      readonly csv: { readonly line: number; readonly column: number | null; readonly columnName: string | null } | null;
    }
  /** The warm-up's rows parsed (null: it gave way to a parse), or why it failed. */
  | { readonly kind: 'warmed'; readonly ok: true; readonly rows: number | null }
  | { readonly kind: 'warmed'; readonly ok: false; readonly message: string };

/** The typed arrays' buffers, each once (a transfer list may not repeat one). */
export function tableBuffers(table: { readonly columns: readonly Column[]; readonly rowOffsets: Float64Array; readonly lineNumbers: Int32Array }): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>([table.rowOffsets.buffer as ArrayBuffer, table.lineNumbers.buffer as ArrayBuffer]);
  for (const c of table.columns) buffers.add((c.kind === 'category' ? c.codes.buffer : c.values.buffer) as ArrayBuffer);
  return [...buffers];
}

/**
 * V8's full garbage collection, for this thread. A parse worker idle between uploads allocates
 * nothing, so V8 would not collect what its last parse left (the part's SharedArrayBuffers, which
 * the main thread has copied into the table; the batches' bytes) until the next parse: memory held
 * for nothing while the analysis runs (~100 MB after a 1M-row upload). V8 only offers `gc` to a
 * context made while its flag is on: the flag is turned on for one new context and off again, so
 * no other context sees a `gc` global. Where a Node.js no longer lets flags change at run time, it
 * does nothing (the memory then waits for the worker's next collection, as it would anyway).
 */
export function garbageCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('typeof gc === "function" ? gc : undefined');
    return typeof gc === 'function' ? (gc as () => void) : () => undefined;
  } catch {
    return () => undefined;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/**
 * A parse worker's state and answers, apart from its thread (tests drive one in this thread). It
 * holds a parse's part only while the parse sends it batches: the part is let go when `end` asks
 * for it (the answer shares its arrays, see part.ts), and when the pool says the parse is over
 * (`reset`, sent once the merge is done), the garbage of the parse is collected at once.
 */
export class ParseWorkerState {
  private options: CsvParserOptions = {};
  private part: PartParser | null = null;

  constructor(
    private readonly post: (msg: ParseWorkerResult, transfer?: ArrayBuffer[]) => void,
    private readonly collectGarbage: () => void,
  ) {}

  /** Whether it holds a parse's part (from `start` until `end` or `reset`). */
  get holdsPart(): boolean {
    return this.part !== null;
  }

  handle(msg: ParseWorkerMessage): void {
    if (msg.kind === 'start') {
      this.options = msg.options;
      this.part = new PartParser(this.options);
    } else if (msg.kind === 'header') {
      this.part?.receive(msg);
    } else if (msg.kind === 'piece') {
      this.part?.receive(msg);
      if (msg.closes) this.post({ kind: 'parsed', batch: msg.batch });
    } else if (msg.kind === 'end') {
      const ending = this.part ?? new PartParser(this.options);
      this.part = null;
      void ending
        .end(msg.source)
        .catch((err: unknown): PartResult => {
          // Not expected (end() keeps its failures): let a parse of the file decide.
          const message = err instanceof Error ? err.message : String(err);
          return { ok: false, batches: [], failure: { batch: 0, spurious: true, message, csv: null, lineAtBatchStart: 1 } };
        })
        .then((result) => {
          // Its arrays are on shared memory (part.ts): posted, not copied, and nothing is detached.
          this.post({ kind: 'part', result });
        });
    } else if (msg.kind === 'text') {
      // Codes on shared memory: posted without copying.
      readPartText(msg.source, msg.request, true).then(
        (texts) => this.post({ kind: 'text', ok: true, texts }),
        (err: unknown) => this.post({ kind: 'text', ok: false, message: err instanceof Error ? err.message : String(err) }),
      );
    } else if (msg.kind === 'reset') {
      this.options = {};
      this.part = null;
      this.collectGarbage();
    } else if (msg.kind === 'warm') {
      const stop = msg.stop;
      warmParse(msg.rows, () => Atomics.load(stop, 0) !== 0).then(
        (rows) => this.post({ kind: 'warmed', ok: true, rows }),
        (err: unknown) => this.post({ kind: 'warmed', ok: false, message: err instanceof Error ? err.message : String(err) }),
      );
    } else {
      // Read sizes and record limits do not change the table: the file is read in large chunks.
      const { requiredColumns, numericColumns, maxRows } = this.options;
      parseCsvFile(msg.source, { requiredColumns, numericColumns, maxRows }).then(
        (table) => this.post({ kind: 'file', ok: true, table }, tableBuffers(table)),
        (err: unknown) =>
          this.post({
            kind: 'file',
            ok: false,
            message: err instanceof Error ? err.message : String(err),
            csv: err instanceof CsvFormatError ? { line: err.line, column: err.column, columnName: err.columnName } : null,
          }),
      );
    }
  }
}

if (parentPort) {
  const port = parentPort;
  const state = new ParseWorkerState((msg, transfer) => port.postMessage(msg, transfer), garbageCollector());
  port.on('message', (msg: ParseWorkerMessage) => state.handle(msg));
}
