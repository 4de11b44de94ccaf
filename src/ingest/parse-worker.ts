/**
 * Parse worker: runs a createCsvParser on its own thread, so a CSV is parsed while the main thread
 * is busy receiving it. Messages in: `{ kind: 'start', options }`, `{ kind: 'chunk', bytes }`,
 * `{ kind: 'end', source }`; out: one `{ ok: true, table }` (its arrays transferred) or
 * `{ ok: false, message }`. Started by threaded.ts; works under tsx and compiled.
 */
import { parentPort } from 'node:worker_threads';
import { createCsvParser, type CsvParser, type CsvParserOptions } from './csv.ts';
import type { FlowTable } from './types.ts';

export type ParseWorkerMessage =
  | { readonly kind: 'start'; readonly options: CsvParserOptions }
  | { readonly kind: 'chunk'; readonly bytes: Uint8Array }
  | { readonly kind: 'end'; readonly source: string };

export type ParseWorkerResult = { readonly ok: true; readonly table: FlowTable } | { readonly ok: false; readonly message: string };

/** The table's typed arrays' buffers, each once (a transfer list may not repeat one). */
export function tableBuffers(table: FlowTable): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>([table.rowOffsets.buffer as ArrayBuffer, table.lineNumbers.buffer as ArrayBuffer]);
  for (const c of table.columns) buffers.add((c.kind === 'category' ? c.codes.buffer : c.values.buffer) as ArrayBuffer);
  return [...buffers];
}

if (parentPort) {
  const port = parentPort;
  let parser: CsvParser | null = null;
  let failure: string | null = null;
  const fail = (err: unknown) => {
    failure ??= err instanceof Error ? err.message : String(err);
    parser = null;
  };
  port.on('message', (msg: ParseWorkerMessage) => {
    if (msg.kind === 'start') {
      parser = createCsvParser(msg.options);
      return;
    }
    if (msg.kind === 'chunk') {
      if (parser === null) return;
      try {
        parser.push(Buffer.from(msg.bytes.buffer, msg.bytes.byteOffset, msg.bytes.byteLength));
      } catch (err) {
        fail(err);
      }
      return;
    }
    const ending = parser;
    parser = null;
    if (ending === null) {
      port.postMessage({ ok: false, message: failure ?? 'not started' } satisfies ParseWorkerResult);
      return;
    }
    ending.end(msg.source).then(
      (table) => port.postMessage({ ok: true, table } satisfies ParseWorkerResult, tableBuffers(table)),
      (err: unknown) => port.postMessage({ ok: false, message: err instanceof Error ? err.message : String(err) } satisfies ParseWorkerResult),
    );
  });
}
