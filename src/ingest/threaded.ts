/**
 * A CSV parsed on two worker threads while it arrives. `push` hands the bytes to a BatchSplitter
 * (split.ts), which cuts them into batches of whole records, each for the parse worker
 * (parse-worker.ts) with the least left to parse; `end` collects the workers' parts (their arrays
 * shared, not copied) and merges them (merge.ts) into the table createCsvParser gives on the same
 * bytes; for a column that turned to text in other parts only, each worker reads its part's values
 * again, as text. When the parts do not settle the table (a time column's kind changed in ways that
 * turn on values they did not keep, see merge.ts; a cut fooled by a lenient quote), a worker parses
 * the file itself. A CSV error rejects `end` with the error that one parse throws; any other
 * failure rejects it too (the caller then parses the file itself, which gives the positioned
 * CsvFormatError). The workers come from a pool kept between parses (pool.ts) when it has idle
 * ones, else are started for this parse.
 */
import type { CsvParserOptions } from './csv.ts';
import { mergeParts } from './merge.ts';
import type { PartResult } from './part.ts';
import { takeParseWorkers } from './pool.ts';
import type { PartText, TextRequest } from './reread.ts';
import { BatchSplitter } from './split.ts';
import { CsvFormatError, type FlowTable } from './types.ts';

/** Bytes of a batch: big enough that a batch costs little beyond its parse, small enough to share out evenly. */
const BATCH_BYTES = 1024 * 1024;

export interface ThreadedCsvParserOptions extends CsvParserOptions {
  /**
   * Parse workers (default 2). With maxRows, 1: the limit is checked against the running row count,
   * which only a parse of every batch in order knows.
   */
  readonly workers?: number;
  /** Bytes per batch (default 1 MiB). Tests use tiny batches to cross every boundary. */
  readonly batchBytes?: number;
}

export interface ThreadedCsvParser {
  push(chunk: Buffer): void;
  /** The same bytes are in the file `source` (read back to re-read rows, or to parse it whole). */
  end(source: string): Promise<FlowTable>;
  /** Stops the parse and lets its workers go; a pending `end` rejects. */
  abort(): void;
}

export function createThreadedCsvParser(options: ThreadedCsvParserOptions = {}): ThreadedCsvParser {
  const count = options.maxRows !== undefined ? 1 : Math.max(1, Math.floor(options.workers ?? 2));
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
    // Workers that owe nothing go back to the pool (pool.ts), the others are terminated.
    for (const w of workers) w.release();
  };
  const workers = takeParseWorkers(count, {
    parsed: (batch) => splitter.parsed(batch),
    failed: (error) => finish({ error }),
  });
  for (const w of workers) w.post({ kind: 'start', options });
  const splitter = new BatchSplitter((w, msg) => workers[w].post(msg), count, options.batchBytes ?? BATCH_BYTES);

  const collect = async (source: string): Promise<FlowTable> => {
    const used = new Set(splitter.plan);
    const parts = await Promise.all(
      workers.map(async (w, i): Promise<PartResult | undefined> => {
        if (!used.has(i)) return undefined;
        return (await w.ask({ kind: 'end', source })).result;
      }),
    );
    // A part's rows read again as text by the worker that parsed it (the parts at the same time).
    const readText = async (part: number, request: TextRequest): Promise<readonly PartText[]> => {
      const answer = await workers[part].ask({ kind: 'text', source, request });
      if (!answer.ok) throw new Error(answer.message);
      return answer.texts;
    };
    const outcome = await mergeParts(splitter.plan, parts, readText, options);
    if ('table' in outcome) return outcome.table;
    if ('error' in outcome) throw outcome.error;
    const answer = await workers[0].ask({ kind: 'file', source });
    if (answer.ok) return answer.table;
    throw answer.csv === null ? new Error(answer.message) : new CsvFormatError(answer.message, answer.csv.line, answer.csv.column, answer.csv.columnName);
  };

  let ended = false;
  return {
    push(chunk) {
      if (!settled && !ended) splitter.push(chunk);
    },
    end(source) {
      if (!settled && !ended) {
        ended = true;
        splitter.end();
        collect(source).then(
          (table) => finish({ table }),
          (error: Error) => finish({ error }),
        );
      }
      return result;
    },
    abort() {
      finish({ error: new Error('aborted') });
    },
  };
}
