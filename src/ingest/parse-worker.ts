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
 * after another (pool.ts): `{ kind: 'reset' }` drops what the last one left, and a `start` begins
 * from scratch. `{ kind: 'warm', rows, stop }`, answered by `{ kind: 'warmed', ... }`, runs the
 * parser on generated rows (warm.ts) so that the next parse finds it compiled. Started by pool.ts;
 * works under tsx and compiled.
 */
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

if (parentPort) {
  const port = parentPort;
  let options: CsvParserOptions = {};
  let part: PartParser | null = null;
  port.on('message', (msg: ParseWorkerMessage) => {
    if (msg.kind === 'start') {
      options = msg.options;
      part = new PartParser(options);
    } else if (msg.kind === 'header') {
      part?.receive(msg);
    } else if (msg.kind === 'piece') {
      part?.receive(msg);
      if (msg.closes) port.postMessage({ kind: 'parsed', batch: msg.batch } satisfies ParseWorkerResult);
    } else if (msg.kind === 'end') {
      const ending = part ?? new PartParser(options);
      part = null;
      void ending
        .end(msg.source)
        .catch((err: unknown): PartResult => {
          // Not expected (end() keeps its failures): let a parse of the file decide.
          const message = err instanceof Error ? err.message : String(err);
          return { ok: false, batches: [], failure: { batch: 0, spurious: true, message, csv: null, lineAtBatchStart: 1 } };
        })
        .then((result) => {
          // Its arrays are on shared memory (part.ts): posted, not copied, and nothing is detached.
          port.postMessage({ kind: 'part', result } satisfies ParseWorkerResult);
        });
    } else if (msg.kind === 'text') {
      // Codes on shared memory: posted without copying.
      readPartText(msg.source, msg.request, true).then(
        (texts) => port.postMessage({ kind: 'text', ok: true, texts } satisfies ParseWorkerResult),
        (err: unknown) => port.postMessage({ kind: 'text', ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ParseWorkerResult),
      );
    } else if (msg.kind === 'reset') {
      options = {};
      part = null;
    } else if (msg.kind === 'warm') {
      const stop = msg.stop;
      warmParse(msg.rows, () => Atomics.load(stop, 0) !== 0).then(
        (rows) => port.postMessage({ kind: 'warmed', ok: true, rows } satisfies ParseWorkerResult),
        (err: unknown) => port.postMessage({ kind: 'warmed', ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ParseWorkerResult),
      );
    } else {
      // Read sizes and record limits do not change the table: the file is read in large chunks.
      const { requiredColumns, numericColumns, maxRows } = options;
      parseCsvFile(msg.source, { requiredColumns, numericColumns, maxRows }).then(
        (table) => port.postMessage({ kind: 'file', ok: true, table } satisfies ParseWorkerResult, tableBuffers(table)),
        (err: unknown) =>
          port.postMessage({
            kind: 'file',
            ok: false,
            message: err instanceof Error ? err.message : String(err),
            csv: err instanceof CsvFormatError ? { line: err.line, column: err.column, columnName: err.columnName } : null,
          } satisfies ParseWorkerResult),
      );
    }
  });
}
