/**
 * createCsvParser on a worker thread (parse-worker.ts): `push` copies the bytes into batches posted
 * to the worker, `end` resolves with the table the worker built (its arrays moved, not copied).
 * Same table as createCsvParser on the same bytes; any failure, the worker's included, rejects
 * `end` (the caller then parses the file itself, which gives the positioned CsvFormatError).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CsvParserOptions } from './csv.ts';
import type { ParseWorkerMessage, ParseWorkerResult } from './parse-worker.ts';
import type { FlowTable } from './types.ts';

const EXT = extname(fileURLToPath(import.meta.url));
const WORKER_URL = new URL(`./parse-worker${EXT}`, import.meta.url);
/** Bytes gathered before a batch is posted to the worker. */
const BATCH_BYTES = 1024 * 1024;

/** Compiled, the worker file runs directly; under tsx a bootstrap registers tsx's hooks first (as detection/pool.ts). */
function startWorker(): Worker {
  if (EXT !== '.ts') return new Worker(WORKER_URL);
  const api = import.meta.resolve('tsx/esm/api');
  const code =
    "const { workerData } = require('node:worker_threads');" +
    'import(workerData.api).then((m) => { m.register(); return import(workerData.url); });';
  return new Worker(code, { eval: true, workerData: { api, url: WORKER_URL.href } });
}

export interface ThreadedCsvParser {
  push(chunk: Buffer): void;
  /** The same bytes are in the file `source` (read back only if a column changed kind). */
  end(source: string): Promise<FlowTable>;
  /** Stops the worker; a pending `end` rejects. */
  abort(): void;
}

export function createThreadedCsvParser(options: CsvParserOptions = {}): ThreadedCsvParser {
  const worker = startWorker();
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
