/**
 * One parse worker's share of a file: the batches of whole records it is sent (split.ts), parsed by
 * one TableParser as a single stream of records after the file's header, each batch at its own
 * file offset (so row offsets are the file's). The result holds the part's rows and what merge.ts
 * needs to join the parts in file order: per batch, the rows and lines it held (the part counts
 * lines only over the bytes it saw); per column, how its kind was decided. The part's arrays are on
 * shared memory, so the worker posts them without copying or detaching anything (see zeroFloat64).
 */
import { ChunkPusher, DEFAULT_PUSH_BYTES, scanFileRecords } from './chunks.ts';
import { type DemotionReason, K_CATEGORY } from './columns.ts';
import { type CsvParserOptions, TableParser } from './csv.ts';
import type { ByteDictionary } from './dictionary.ts';
import type { PartMessage } from './split.ts';
import { type Column, CsvFormatError } from './types.ts';

export interface BatchStats {
  readonly batch: number;
  /** The part's row index of the batch's first row, and the rows in the batch. */
  readonly rowStart: number;
  readonly rows: number;
  /** The part's line count where the batch started, and the lines (line breaks) it held. */
  readonly lineStart: number;
  readonly lines: number;
  readonly blankLines: number;
  /** The part's line of the batch's first blank line; 0 when the part had one before. */
  readonly firstBlankLine: number;
}

/** How a column's kind was decided in a part: ColumnBuilder's record of it, rows the part's. */
export interface ColumnTrace {
  readonly demotions: number;
  /** The row of the first demotion, and of the last (the column's kind holds from there on). */
  readonly firstDemotionRow: number;
  readonly demotionRow: number;
  readonly demotionReason: DemotionReason | null;
  readonly demotionLine: number;
  readonly demotionValue: string;
  /** The last demotion's value read as a number: ST_OK, ST_NONFINITE or ST_INVALID (values.ts). */
  readonly demotionStatus: number;
  readonly demotionWarns: boolean;
  readonly demotedFromFreshTime: boolean;
  readonly firstNumberRow: number;
  readonly epochScale: number;
  readonly formatRow: number;
  readonly nonFinite: number;
  /**
   * Category columns: the codes whose value contains U+FFFD, with the value's bytes as latin1. Such
   * a value may come from invalid UTF-8, where different bytes give the same string: the merge
   * matches these by bytes, the others by string (valid UTF-8 decodes one-to-one).
   */
  readonly rawKeys: readonly (readonly [number, string])[];
  /** Category columns: the first row of each code (the merge orders the file's dictionary by them). */
  readonly firstRows: Int32Array | null;
}

export interface PartFailure {
  /** The batch being parsed (a failed header read counts as the part's first batch). */
  readonly batch: number;
  /** Not the CSV's fault but the split's (a batch did not end at a record boundary, no header). */
  readonly spurious: boolean;
  readonly message: string;
  /** A CsvFormatError's position, its line counted as the part counts lines. */
  readonly csv: { readonly line: number; readonly column: number | null; readonly columnName: string | null } | null;
  /** The part's line count where the failing batch started. */
  readonly lineAtBatchStart: number;
}

export interface PartTable {
  readonly header: readonly string[] | null;
  readonly rowCount: number;
  readonly columns: readonly Column[];
  readonly rowOffsets: Float64Array;
  readonly lineNumbers: Int32Array;
}

export type PartResult =
  | { readonly ok: true; readonly table: PartTable; readonly batches: readonly BatchStats[]; readonly traces: readonly ColumnTrace[] }
  | { readonly ok: false; readonly batches: readonly BatchStats[]; readonly failure: PartFailure };

interface OpenBatch {
  readonly batch: number;
  readonly pusher: ChunkPusher;
  readonly rowStart: number;
  readonly lineStart: number;
  readonly blankStart: number;
}

/** The first of rows [0, n) holding each code in [0, size). Codes are mostly met in order: stops once all are seen. */
export function firstRows(codes: Int32Array, n: number, size: number): Int32Array {
  const first = new Int32Array(size).fill(-1);
  let left = size;
  for (let r = 0; r < n && left > 0; r++) {
    const c = codes[r];
    if (c >= 0 && first[c] < 0) {
      first[c] = r;
      left--;
    }
  }
  return first;
}

/** ColumnTrace.rawKeys of a dictionary. */
export function rawKeys(dict: ByteDictionary): (readonly [number, string])[] {
  const keys: (readonly [number, string])[] = [];
  const strings = dict.strings;
  for (let c = 0; c < strings.length; c++) {
    if (strings[c].includes('\ufffd')) keys.push([c, Buffer.from(dict.bytes(c)).toString('latin1')]);
  }
  return keys;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class PartParser {
  private readonly parser: TableParser;
  private open: OpenBatch | null = null;
  private readonly batches: BatchStats[] = [];
  /** The file bytes [from, to) of the part's batches, adjacent ones joined. */
  private readonly spans: { from: number; to: number }[] = [];
  private failure: PartFailure | null = null;

  constructor(private readonly options: CsvParserOptions) {
    this.parser = new TableParser(options, options.sizeHint ?? 0, true);
  }

  /** The next message from the splitter. A failure is kept for end(); later messages are ignored. */
  receive(msg: PartMessage): void {
    if (this.failure !== null) return;
    try {
      if (msg.kind === 'header') this.readHeader(asBuffer(msg.bytes), msg.beforeBatch);
      else this.piece(msg);
    } catch (err) {
      // A header read fails only with the first batch, which another part parses and reports.
      this.fail(msg.kind === 'header' ? msg.beforeBatch : msg.batch, err, msg.kind === 'header');
    }
  }

  private readHeader(bytes: Buffer, beforeBatch: number): void {
    const p = this.parser;
    p.headerOnly = true;
    p.feed(bytes, 0, false);
    p.headerOnly = false;
    if (p.header === null) {
      this.fail(beforeBatch, new Error('the header is not within the first batch'), true);
      return;
    }
    // Blank lines before the header are the first batch's, counted by the part that parses it.
    p.blankLines = 0;
    p.firstBlankLine = 0;
  }

  private piece(msg: Extract<PartMessage, { kind: 'piece' }>): void {
    const p = this.parser;
    if (this.open === null) {
      const offset = msg.offset;
      this.open = {
        batch: msg.batch,
        pusher: new ChunkPusher((buf, base, isLast) => p.feed(buf, offset + base, isLast), this.options.chunkBytes ?? DEFAULT_PUSH_BYTES, this.options.maxRecordBytes),
        rowStart: p.rowCount,
        lineStart: p.line,
        blankStart: p.blankLines,
      };
    }
    const open = this.open;
    const last = this.spans[this.spans.length - 1];
    if (last?.to === msg.offset) last.to += msg.bytes.length;
    else this.spans.push({ from: msg.offset, to: msg.offset + msg.bytes.length });
    open.pusher.push(asBuffer(msg.bytes));
    if (!msg.closes) return;
    if (msg.final) open.pusher.end();
    else if (!open.pusher.endAtRecord()) {
      this.fail(open.batch, new Error(`batch ${open.batch} does not end at a record boundary`), true);
      return;
    }
    this.batches.push({
      batch: open.batch,
      rowStart: open.rowStart,
      rows: p.rowCount - open.rowStart,
      lineStart: open.lineStart,
      lines: p.line - open.lineStart,
      blankLines: p.blankLines - open.blankStart,
      firstBlankLine: open.blankStart === 0 && p.blankLines > 0 ? p.firstBlankLine : 0,
    });
    this.open = null;
  }

  private fail(batch: number, err: unknown, spurious: boolean): PartFailure {
    const csv = err instanceof CsvFormatError ? { line: err.line, column: err.column, columnName: err.columnName } : null;
    return (this.failure = {
      batch,
      spurious,
      message: err instanceof Error ? err.message : String(err),
      csv,
      lineAtBatchStart: this.open?.lineStart ?? this.parser.line,
    });
  }

  /**
   * Every batch has been sent: re-reads from `source` (the whole file) the rows of columns that
   * changed kind after them, as createCsvParser does, and returns the part.
   */
  async end(source: string): Promise<PartResult> {
    if (this.failure === null && this.open !== null) {
      this.fail(this.open.batch, new Error(`batch ${this.open.batch} was never closed`), true);
    }
    if (this.failure !== null) return { ok: false, batches: this.batches, failure: this.failure };
    const p = this.parser;
    try {
      const pending = p.close();
      if (pending > 0) {
        // The part's rows are in its batches' bytes only: the records between them are other parts'.
        const refill = p.refiller();
        for (const span of this.spans) {
          const from = Math.max(span.from, p.rowOffsets[0]);
          const to = Math.min(span.to, p.rowOffsets[pending]);
          if (from < to) await scanFileRecords(source, from, to, refill);
        }
      }
    } catch (err) {
      // The file no longer holds the bytes that were parsed? Let a parse of the file itself decide.
      return { ok: false, batches: this.batches, failure: this.fail(this.batches[0]?.batch ?? 0, err, true) };
    }
    const table = p.table(false);
    const traces = p.builders.map(
      (b): ColumnTrace => ({
        demotions: b.demotions,
        firstDemotionRow: b.firstDemotionRow,
        demotionRow: b.pendingUntil,
        demotionReason: b.demotionReason,
        demotionLine: b.demotionLine,
        demotionValue: b.demotionValue,
        demotionStatus: b.demotionStatus,
        demotionWarns: b.demotionWarns,
        demotedFromFreshTime: b.demotedFromFreshTime,
        firstNumberRow: b.firstNumberRow,
        epochScale: b.epochScale,
        formatRow: b.formatRow,
        nonFinite: b.nonFinite,
        rawKeys: b.kind === K_CATEGORY && b.dict !== null ? rawKeys(b.dict) : [],
        firstRows: b.kind === K_CATEGORY && b.dict !== null ? firstRows(b.codes as Int32Array, p.rowCount, b.dict.size) : null,
      }),
    );
    return {
      ok: true,
      table: { header: p.header, rowCount: table.rowCount, columns: table.columns, rowOffsets: table.rowOffsets, lineNumbers: table.lineNumbers },
      batches: this.batches,
      traces,
    };
  }
}
