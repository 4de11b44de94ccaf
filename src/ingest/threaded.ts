/**
 * createCsvParser on a worker thread (parse-worker.ts): `push` copies the bytes into batches posted
 * to the worker, `end` resolves with the table the worker built (its arrays moved, not copied).
 * Same table as createCsvParser on the same bytes; any failure, the worker's included, rejects
 * `end` (the caller then parses the file itself, which gives the positioned CsvFormatError).
 */
import { startModuleWorker } from '../lib/worker.ts';
import type { CsvParserOptions } from './csv.ts';
import type { ParseWorkerMessage, ParseWorkerResult } from './parse-worker.ts';
import type { FlowTable } from './types.ts';

/** Bytes gathered before a batch is posted to the worker. */
const BATCH_BYTES = 1024 * 1024;

export interface ThreadedCsvParser {
  push(chunk: Buffer): void;
  /** The same bytes are in the file `source` (read back only if a column changed kind). */
  end(source: string): Promise<FlowTable>;
  /** Stops the worker; a pending `end` rejects. */
  abort(): void;
}

export function createThreadedCsvParser(options: CsvParserOptions = {}): ThreadedCsvParser {
  const worker = startModuleWorker('parse-worker', import.meta.url);
  worker.unref(); // never what keeps the process alive
  let batch = Buffer.allocUnsafe(BATCH_BYTES);
  let filled = 0;
  let settled = false;
  let resolveEnd!: (table: FlowTable) => void;
  let rejectEnd!: (err: Error) => void;
  const result = new Promise<FlowTable>((resolve, reject) => {
    resolveEnd = resolve;
    rejectEnd = reject;
  });
  result.catch(() => undefined); // observed through end()
  const finish = (outcome: { table: FlowTable } | { error: Error }) => {
    if (settled) return;
    settled = true;
    if ('table' in outcome) resolveEnd(outcome.table);
    else rejectEnd(outcome.error);
    void worker.terminate();
  };
  worker.on('message', (msg: ParseWorkerResult) => finish(msg.ok ? { table: msg.table } : { error: new Error(msg.message) }));
  worker.on('error', (err) => finish({ error: err }));
  worker.on('exit', () => finish({ error: new Error('the parse worker stopped') }));
  const post = (msg: ParseWorkerMessage, transfer?: ArrayBuffer[]) => {
    if (!settled) worker.postMessage(msg, transfer);
  };
  const flush = () => {
    if (filled === 0) return;
    const bytes = new Uint8Array(batch.buffer, batch.byteOffset, filled);
    post({ kind: 'chunk', bytes }, [batch.buffer as ArrayBuffer]);
    batch = Buffer.allocUnsafe(BATCH_BYTES);
    filled = 0;
  };
  post({ kind: 'start', options });
  return {
    push(chunk) {
      let p = 0;
      while (p < chunk.length) {
        const n = Math.min(chunk.length - p, BATCH_BYTES - filled);
        chunk.copy(batch, filled, p, p + n);
        filled += n;
        p += n;
        if (filled === BATCH_BYTES) flush();
      }
    },
    end(source) {
      flush();
      post({ kind: 'end', source });
      return result;
    },
    abort() {
      finish({ error: new Error('aborted') });
    },
  };
}
