/**
 * Joining the parts of a file parsed by several workers (part.ts) into the FlowTable that one
 * TableParser reading the whole file makes: rows in file order with their file offsets and lines,
 * the same column kinds, values, category dictionaries (in the same order) and warnings. When the
 * parts cannot tell what that parse would give, the outcome says to parse the file itself.
 *
 * Rows and lines: batch k's rows follow batch k-1's; its lines start after the lines of every batch
 * before it, so a part's line numbers move by one shift per batch.
 *
 * Column kinds: a column's kind is decided by its values in file order (columns.ts), and a part saw
 * only some of them. What the parts' kinds say of the whole file, case by case:
 * - no part changed the column's kind: the file's parse did not either (a value that demotes it in
 *   the file demotes it in its part: a part's state before the value is at most the file's), and
 *   values are read the same way; a time column's epoch unit must be the same in every part (the
 *   file's is set by its first epoch value, which is its part's first);
 * - numeric → text in every part: the file's column turned at the first of the parts' turning rows,
 *   with a warning when any part had a number before that row;
 * - time → numbers or time → text in every part, each at the first value that was not missing (the
 *   only way to end numeric; checked for text): the file's turned the same way at the first of
 *   those rows, the rows before it all missing;
 * anything else (the parts disagree, or a part changed twice) → parse the file. A column's values
 * depend only on its final kind (rows read before a change are re-read into it), so the parts'
 * values are the file's. A text column's dictionary lists values in the order the file's parse met
 * them: from the row where it became text to the end, then the rows before (re-read last).
 */
import { demotionWarning, initialKind, K_CATEGORY, K_NUMERIC, K_TIME } from './columns.ts';
import { blankLinesWarning, type CsvOptions, nonFiniteWarning } from './csv.ts';
import type { BatchStats, ColumnTrace, PartFailure, PartResult, PartTable } from './part.ts';
import { type CategoryColumn, type Column, CsvFormatError, type FlowTable } from './types.ts';

export type MergeOutcome =
  | { readonly table: FlowTable }
  /** The CSV is wrong: the error one parse of the file throws. */
  | { readonly error: Error }
  /** The parts do not tell what one parse of the file gives: parse the file (why, for logs and tests). */
  | { readonly fallback: string };

/** One batch's rows: part `part`'s rows [localStart, localStart + rows) are the file's from globalStart. */
interface Segment {
  readonly part: number;
  readonly localStart: number;
  readonly rows: number;
  readonly globalStart: number;
  /** Added to the part's line numbers of the batch. */
  readonly lineShift: number;
}

interface Held {
  readonly part: number;
  readonly table: PartTable;
  readonly traces: readonly ColumnTrace[];
}

const KIND_CODES: Record<Column['kind'], number> = { numeric: K_NUMERIC, category: K_CATEGORY, time: K_TIME };

/**
 * `plan[k]` is the part that parsed batch k; `parts[i]` is part i's result (undefined for a part
 * that was sent no batch).
 */
export function mergeParts(plan: readonly number[], parts: readonly (PartResult | undefined)[], options: CsvOptions = {}): MergeOutcome {
  const stats: (BatchStats | undefined)[] = new Array(plan.length);
  let failure: PartFailure | null = null;
  for (const part of parts) {
    if (part === undefined) continue;
    for (const b of part.batches) stats[b.batch] = b;
    if (!part.ok && (failure === null || part.failure.batch < failure.batch)) failure = part.failure;
  }
  // Every batch before the first failure was parsed: the failing batch starts at a record boundary.
  const upTo = failure?.batch ?? plan.length;
  const lineStart = [1];
  for (let k = 0; k < upTo; k++) {
    const s = stats[k];
    if (s === undefined) return { fallback: `batch ${k} was not parsed` };
    lineStart.push(lineStart[k] + s.lines);
  }
  if (failure !== null) {
    if (failure.spurious) return { fallback: failure.message };
    if (failure.csv === null) return { error: new Error(failure.message) };
    return { error: shiftedError(failure, lineStart[failure.batch] - failure.lineAtBatchStart) };
  }
  const lineEnd = lineStart[plan.length];

  let blankLines = 0;
  let firstBlankLine = 0;
  const segments: Segment[] = [];
  let rowCount = 0;
  for (let k = 0; k < plan.length; k++) {
    const s = stats[k] as BatchStats;
    const lineShift = lineStart[k] - s.lineStart;
    if (s.blankLines > 0 && blankLines === 0) firstBlankLine = s.firstBlankLine + lineShift;
    blankLines += s.blankLines;
    if (s.rows > 0) segments.push({ part: plan[k], localStart: s.rowStart, rows: s.rows, globalStart: rowCount, lineShift });
    rowCount += s.rows;
  }
  const first = parts[plan[0]];
  const header = first?.ok ? first.table.header : null;
  if (header === null) {
    return { error: new CsvFormatError(blankLines > 0 ? 'The file has only blank lines: no header, no data' : 'The file is empty', 1, null) };
  }
  if (rowCount === 0) return { error: new CsvFormatError(`Line ${lineEnd}: the file has a header but no data rows`, lineEnd, null) };
  if (options.maxRows !== undefined && rowCount > options.maxRows) return { fallback: 'more rows than maxRows' };

  const held: Held[] = [];
  parts.forEach((part, i) => {
    if (part?.ok && part.table.rowCount > 0) held.push({ part: i, table: part.table, traces: part.traces });
  });
  if (held.some((h) => h.table.header?.join('\n') !== header.join('\n'))) return { fallback: 'the parts read different headers' };

  const rowOffsets = new Float64Array(rowCount + 1);
  const lineNumbers = new Int32Array(rowCount);
  for (const seg of segments) {
    const t = (parts[seg.part] as Extract<PartResult, { ok: true }>).table;
    rowOffsets.set(t.rowOffsets.subarray(seg.localStart, seg.localStart + seg.rows), seg.globalStart);
    shiftLines(lineNumbers, seg.globalStart, t.lineNumbers, seg.localStart, seg.rows, seg.lineShift);
  }
  const last = segments[segments.length - 1];
  const lastTable = (parts[last.part] as Extract<PartResult, { ok: true }>).table;
  rowOffsets[rowCount] = lastTable.rowOffsets[lastTable.rowCount];

  const rows = new RowMap(segments);
  const forced = new Set(options.numericColumns ?? []);
  const columns: Column[] = [];
  const warnings: string[] = [];
  if (blankLines > 0) warnings.push(blankLinesWarning(blankLines, firstBlankLine));
  for (let c = 0; c < header.length; c++) {
    const merged = mergeColumn(header[c], initialKind(header[c], forced.has(header[c])), c, held, rows, lineNumbers, rowCount);
    if ('fallback' in merged) return merged;
    columns.push(merged.column);
    if (merged.warning !== null) warnings.push(merged.warning);
    if (merged.column.kind === 'numeric') {
      let nonFinite = 0;
      for (const h of held) nonFinite += h.traces[c].nonFinite;
      if (nonFinite > 0) warnings.push(nonFiniteWarning(header[c], nonFinite));
    }
  }
  return { table: { rowCount, columns, header, rowOffsets, lineNumbers, warnings } };
}

// The per-row loops are small functions of typed arrays: optimized after a few calls, where the
// same loops inside the long merge functions (run once) would stay interpreted.

function shiftLines(out: Int32Array, at: number, lines: Int32Array, from: number, n: number, shift: number): void {
  for (let i = 0; i < n; i++) out[at + i] = lines[from + i] + shift;
}

function mapCodes(out: Int32Array, at: number, local: Int32Array, from: number, n: number, remap: Int32Array): void {
  for (let k = 0; k < n; k++) out[at + k] = remap[local[from + k] + 1];
}

/**
 * out[g] = the global code of local[g + shift] for g in [lo, hi); a local code not seen yet gets
 * the next global one (by `assign`). Missing (-1) stays -1.
 */
function remapCodes(out: Int32Array, lo: number, hi: number, local: Int32Array, shift: number, remap: Int32Array, assign: (code: number) => number): void {
  for (let g = lo; g < hi; g++) {
    const code = local[g + shift];
    if (code < 0) {
      out[g] = -1;
      continue;
    }
    let m = remap[code];
    if (m < 0) m = remap[code] = assign(code);
    out[g] = m;
  }
}

/** A part's CsvFormatError with its line made the file's (messages start with "Line <n>"). */
function shiftedError(failure: PartFailure, shift: number): CsvFormatError {
  const { line, column, columnName } = failure.csv as NonNullable<PartFailure['csv']>;
  if (line <= 0) return new CsvFormatError(failure.message, line, column, columnName);
  const prefix = `Line ${line}`;
  const rest = failure.message.slice(prefix.length);
  const message = failure.message.startsWith(prefix) && !/^\d/.test(rest) ? `Line ${line + shift}${rest}` : failure.message;
  return new CsvFormatError(message, line + shift, column, columnName);
}

/** Part rows → file rows. */
class RowMap {
  private readonly byPart = new Map<number, Segment[]>();

  constructor(readonly segments: readonly Segment[]) {
    for (const seg of segments) {
      const list = this.byPart.get(seg.part) ?? [];
      list.push(seg);
      this.byPart.set(seg.part, list);
    }
  }

  /** The file row of part `part`'s row `row` (-1 stays -1). */
  global(part: number, row: number): number {
    const list = this.byPart.get(part);
    if (row < 0 || list === undefined) return -1;
    // The last segment starting at or before the row (a part's segments are in row order).
    let lo = 0;
    let hi = list.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (list[mid].localStart <= row) lo = mid;
      else hi = mid - 1;
    }
    const seg = list[lo];
    return row >= seg.localStart && row < seg.localStart + seg.rows ? seg.globalStart + (row - seg.localStart) : -1;
  }
}

type ColumnOutcome = { readonly column: Column; readonly warning: string | null } | { readonly fallback: string };

function mergeColumn(
  name: string,
  start: number,
  c: number,
  held: readonly Held[],
  rows: RowMap,
  lineNumbers: Int32Array,
  n: number,
): ColumnOutcome {
  const kind = held[0].table.columns[c].kind;
  if (held.some((h) => h.table.columns[c].kind !== kind)) return { fallback: `column ${JSON.stringify(name)}: the parts read it as different kinds` };
  const traces = held.map((h) => h.traces[c]);
  const unchanged = KIND_CODES[kind] === start && traces.every((t) => t.demotions === 0);
  // The file's row of the change (the first of the parts'), and the part it happened in.
  let at = n;
  let by = traces[0];
  for (let i = 0; i < held.length; i++) {
    const r = rows.global(held[i].part, traces[i].demotionRow);
    if (traces[i].demotions > 0 && r < at) {
      at = r;
      by = traces[i];
    }
  }
  const warningAt = (warns: boolean): string | null =>
    warns && by.demotionReason !== null ? demotionWarning(name, by.demotionReason, lineNumbers[at], by.demotionValue) : null;
  const once = (reason: ColumnTrace['demotionReason'], fresh: boolean) =>
    traces.every((t) => t.demotions === 1 && t.demotionReason === reason && (!fresh || t.demotedFromFreshTime));

  if (kind === 'category') {
    let warns = false;
    if (unchanged) at = 0;
    else if (start === K_NUMERIC && once('not-a-number', false)) {
      warns = held.some((h, i) => traces[i].firstNumberRow >= 0 && rows.global(h.part, traces[i].firstNumberRow) < at);
    } else if (start === K_TIME && once('not-a-time', true)) warns = true;
    else return { fallback: `column ${JSON.stringify(name)}: its kind changed in ways the parts do not settle` };
    return { column: mergeCategory(name, c, held, rows, at, n), warning: warningAt(warns) };
  }

  let warning: string | null = null;
  if (!unchanged) {
    if (!(kind === 'numeric' && start === K_TIME && once('plain-numbers', true))) {
      return { fallback: `column ${JSON.stringify(name)}: its kind changed in ways the parts do not settle` };
    }
    warning = warningAt(true);
  }
  const values = new Float64Array(n);
  let missing = 0;
  for (const h of held) missing += (h.table.columns[c] as { missing: number }).missing;
  for (const seg of rows.segments) {
    const col = (held.find((h) => h.part === seg.part) as Held).table.columns[c] as { values: Float64Array };
    values.set(col.values.subarray(seg.localStart, seg.localStart + seg.rows), seg.globalStart);
  }
  if (kind === 'numeric') return { column: { kind: 'numeric', name, values, missing }, warning };

  // A time column: one epoch unit, and the format of the file's first time value.
  const scales = new Set(traces.map((t) => t.epochScale).filter((s) => s !== 0));
  if (scales.size > 1) return { fallback: `column ${JSON.stringify(name)}: the parts read epoch times in different units` };
  let format: 'iso' | 'epoch-seconds' | 'epoch-millis' = 'iso';
  let formatAt = n;
  held.forEach((h, i) => {
    const r = rows.global(h.part, traces[i].formatRow);
    if (r >= 0 && r < formatAt) {
      formatAt = r;
      format = (h.table.columns[c] as { format: typeof format }).format;
    }
  });
  return { column: { kind: 'time', name, values, missing, format }, warning };
}

/** The merged dictionary: a value's code, matched by string, or by bytes (see ColumnTrace.rawKeys). */
class MergedDictionary {
  readonly values: string[] = [];
  private readonly byString = new Map<string, number>();
  private readonly byBytes = new Map<string, number>();

  code(value: string, bytes: string | undefined): number {
    const keys = bytes === undefined ? this.byString : this.byBytes;
    const key = bytes ?? value;
    let m = keys.get(key);
    if (m === undefined) {
      m = this.values.length;
      this.values.push(value);
      keys.set(key, m);
    }
    return m;
  }
}

/**
 * The parts' codes as one dictionary, its values in the order the file's parse met them: rows
 * [from, n) then [0, from).
 */
function mergeCategory(name: string, c: number, held: readonly Held[], rows: RowMap, from: number, n: number): CategoryColumn {
  const dictionary = new MergedDictionary();
  const columns = held.map((h) => h.table.columns[c] as CategoryColumn);
  const rawKeys = held.map((h) => new Map(h.traces[c].rawKeys));
  const codeOf = (i: number, code: number): number => dictionary.code(columns[i].dictionary[code], rawKeys[i].get(code));
  const partIndex = new Map(held.map((h, i) => [h.part, i]));
  const codes = new Int32Array(n);
  if (from === 0) {
    // The order of the values' first rows in the file, from each part's first rows: no pass over
    // the rows to find it, then one lookup per row (a copy where a part's codes are already the file's).
    const remaps = held.map((h, i) => new Int32Array(columns[i].dictionary.length + 1).fill(-1));
    const lists = held.map((h, i) => firstRowOrder(h.part, h.traces[c].firstRows as Int32Array, rows));
    const next = new Array<number>(held.length).fill(0);
    for (;;) {
      let best = -1;
      for (let i = 0; i < held.length; i++) {
        if (next[i] < lists[i].codes.length && (best < 0 || lists[i].rows[next[i]] < lists[best].rows[next[best]])) best = i;
      }
      if (best < 0) break;
      const code = lists[best].codes[next[best]++];
      // Index + 1: remap[0] is missing (-1) → -1.
      remaps[best][code + 1] = codeOf(best, code);
    }
    const identity = remaps.map((remap) => remap.every((m, k) => m === k - 1));
    for (const seg of rows.segments) {
      const i = partIndex.get(seg.part) as number;
      const local = columns[i].codes;
      if (identity[i]) codes.set(local.subarray(seg.localStart, seg.localStart + seg.rows), seg.globalStart);
      else mapCodes(codes, seg.globalStart, local, seg.localStart, seg.rows, remaps[i]);
    }
    return { kind: 'category', name, codes, dictionary: dictionary.values };
  }
  // From a row past the first: a value's first row at or after it is not known to the parts, so the
  // rows are read in that order and each new value gets the next code.
  const remaps = columns.map((col) => new Int32Array(col.dictionary.length).fill(-1));
  const assigners = held.map((_, i) => (code: number): number => codeOf(i, code));
  const fill = (lo: number, hi: number): void => {
    for (const seg of rows.segments) {
      const s = Math.max(lo, seg.globalStart);
      const e = Math.min(hi, seg.globalStart + seg.rows);
      if (s >= e) continue;
      const i = partIndex.get(seg.part) as number;
      remapCodes(codes, s, e, columns[i].codes, seg.localStart - seg.globalStart, remaps[i], assigners[i]);
    }
  };
  fill(from, n);
  fill(0, from);
  return { kind: 'category', name, codes, dictionary: dictionary.values };
}

/** A part's codes in the order of their first rows, with those rows in the file. */
function firstRowOrder(part: number, firstRows: Int32Array, rows: RowMap): { codes: Int32Array; rows: Float64Array } {
  const codes = Int32Array.from(firstRows.keys());
  let sorted = true;
  for (let k = 1; k < firstRows.length && sorted; k++) sorted = firstRows[k] > firstRows[k - 1];
  // Codes are numbered in the order met: sorted unless rows were re-read after a change of kind.
  if (!sorted) codes.sort((a, b) => firstRows[a] - firstRows[b]);
  const global = new Float64Array(codes.length);
  for (let k = 0; k < codes.length; k++) global[k] = rows.global(part, firstRows[codes[k]]);
  return { codes, rows: global };
}
