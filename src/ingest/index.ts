/**
 * Ingest: bytes → the canonical FlowTable (see types.ts). CSV today.
 */
import type { CategoryColumn, Column, FlowTable, NumericColumn, TimeColumn } from './types.ts';

export * from './types.ts';
export { createCsvParser, type CsvOptions, type CsvParser, type CsvParserOptions, parseCsvBuffer, parseCsvFile } from './csv.ts';
export { CsvTokenizer, FIELD_ESCAPED, FIELD_PLAIN, FIELD_QUOTED, recordFields, tokenizeCsv } from './tokenizer.ts';
export { createThreadedCsvParser, type ThreadedCsvParser, type ThreadedCsvParserOptions } from './threaded.ts';
export { closeParsePool, warmParsePool } from './pool.ts';
export { ChunkPusher, MAX_RECORD_BYTES, DEFAULT_CHUNK_BYTES, scanBufferRecords, scanFileRecords, streamFileChunks } from './chunks.ts';
export { decodeNumber, type DecodeResult, ST_INVALID, ST_MISSING, ST_NONFINITE, ST_OK } from './values.ts';
export { isTextName, isTimeName, normalizeName } from './columns.ts';

/** The column called `name`, whatever its kind. */
export function column(table: FlowTable, name: string): Column | undefined {
  return table.columns.find((c) => c.name === name);
}

export function numericColumn(table: FlowTable, name: string): NumericColumn | undefined {
  const c = column(table, name);
  return c?.kind === 'numeric' ? c : undefined;
}

export function categoryColumn(table: FlowTable, name: string): CategoryColumn | undefined {
  const c = column(table, name);
  return c?.kind === 'category' ? c : undefined;
}

export function timeColumn(table: FlowTable, name: string): TimeColumn | undefined {
  const c = column(table, name);
  return c?.kind === 'time' ? c : undefined;
}

/** Epoch ms → 'YYYY-MM-DD HH:MM:SS' (UTC), with '.fff' when there are milliseconds. */
export function formatTimestamp(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  const iso = new Date(Math.round(ms)).toISOString(); // 'YYYY-MM-DDTHH:MM:SS.fffZ'
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return iso.slice(20, 23) === '000' ? base : `${base}.${iso.slice(20, 23)}`;
}

/**
 * Row `row` of a column (given or by name) as display text: '' when missing, numbers as JavaScript
 * prints them, times as 'YYYY-MM-DD HH:MM:SS[.fff]' UTC. Not the source text: reports read that
 * back through rowOffsets.
 */
export function columnValueAsText(table: FlowTable, col: Column | string, row: number): string {
  const c = typeof col === 'string' ? column(table, col) : col;
  if (c === undefined || row < 0 || row >= table.rowCount) return '';
  if (c.kind === 'category') {
    const code = c.codes[row];
    return code < 0 ? '' : c.dictionary[code];
  }
  if (c.kind === 'time') return formatTimestamp(c.values[row]);
  const v = c.values[row];
  return Number.isNaN(v) ? '' : String(v);
}
