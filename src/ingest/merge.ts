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
 * only some of them. Every row before a column's first value (its first field that is not empty or
 * "nan") is missing, so the file's column goes the way its first value sends it, and the parts tell
 * which part holds that value and what happened there. Case by case:
 * - no part changed the column's kind: the file's parse did not either (a value that demotes it in
 *   the file demotes it in its part: a part's state before the value is at most the file's), and
 *   values are read the same way; a time column's epoch unit must be the same in every part (the
 *   file's is set by its first epoch value, which is its part's first);
 * - a numeric column turned to text in some parts: the file's turned at the first of their turning
 *   rows, with a warning when some part (one that turned, or one that did not) had a number before
 *   that row;
 * - a time column whose first value is text (neither a time nor a number): the file's column is
 *   text from there;
 * - a time column whose first value is a plain number (a part turned it numeric there), when no
 *   part read a time: numeric from there, and text from the first value that is not a number (a
 *   part's second turn, or another's first value);
 * - a time column whose first value is a time: every part that changed the column must have turned
 *   it to text, each at a value that any time column turns to text at (one that is not a number; or
 *   a plain number after ISO times, when no part set an epoch unit that would read it as a time):
 *   the file's turned at the first of those rows;
 * What the merge leaves to a parse of the file, as the parts did not keep what it turns on:
 * - a part read times where the file's first value, in another part, is a plain number (the file's
 *   column is numeric from there: an epoch time stays a number in it, an ISO time turns it to text,
 *   and a part that read times does not say where its first ISO time is);
 * - a part turned numeric at a plain number where the file's first value is a time (the file reads
 *   that number as a time once an epoch unit is set, else, after ISO times, as text);
 * - a part turned to text at a plain number after its ISO times while some part set an epoch unit
 *   (which may make that number a time in the file);
 * - a part turned to text at "inf" where the file's column is numeric ("inf" is a missing number
 *   there, and the part read what follows as text only);
 * - parts that read epoch times in different units (the file reads them all in its first one's).
 * Values depend only on the column's final kind (rows read before a change are re-read into it), so
 * the parts' values are the file's when their kind is the file's; a part that read a column the
 * file turned to text as numbers or times has its values re-read from the file as text (reread.ts),
 * the bytes of its own batches only. A text column's dictionary lists values in the order the file's
 * parse met them: from the row where it became text to the end, then the rows before (re-read last).
 */
import { type DemotionReason, demotionWarning, initialKind, K_CATEGORY, K_NUMERIC } from './columns.ts';
import { blankLinesWarning, type CsvOptions, nonFiniteWarning } from './csv.ts';
import type { BatchStats, ColumnTrace, PartFailure, PartResult, PartTable } from './part.ts';
import type { PartText, PartTextReader, RowRange } from './reread.ts';
import { type CategoryColumn, type Column, CsvFormatError, type FlowTable, type TimeColumn } from './types.ts';
import { ST_INVALID, ST_OK } from './values.ts';

export type MergeOutcome =
  /** `rereadRows`: the part rows whose values were read again from the file (0: none). */
  | { readonly table: FlowTable; readonly rereadRows: number }
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

/**
 * `plan[k]` is the part that parsed batch k; `parts[i]` is part i's result (undefined for a part
 * that was sent no batch); `readText` reads part rows' values again from the file, as text (only for
 * a column that changed kind in some parts only: see the module comment).
 */
export async function mergeParts(
  plan: readonly number[],
  parts: readonly (PartResult | undefined)[],
  readText: PartTextReader,
  options: CsvOptions = {},
): Promise<MergeOutcome> {
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
  const decisions: Settled[] = [];
  for (let c = 0; c < header.length; c++) {
    const decision = decideColumn(header[c], initialKind(header[c], forced.has(header[c])), c, held, rows, lineNumbers);
    if ('fallback' in decision) return decision;
    decisions.push(decision);
  }

  // Text the parts did not read as text, read again from the file: one pass over each part's
  // batches, the parts at the same time.
  const texts = held.map(() => new Map<number, PartText>());
  const wanted = held.map(() => [] as number[]);
  decisions.forEach((d, c) => {
    if (d.kind === 'category') for (const i of d.reread) wanted[i].push(c);
  });
  let rereadRows = 0;
  try {
    await Promise.all(
      held.map(async (h, i) => {
        if (wanted[i].length === 0) return;
        const request = { ranges: partRanges(rows, h.part, rowOffsets), columns: wanted[i], offsets: h.table.rowOffsets, rowCount: h.table.rowCount };
        const read = await readText(h.part, request);
        wanted[i].forEach((c, k) => texts[i].set(c, read[k]));
        rereadRows += h.table.rowCount;
      }),
    );
  } catch (err) {
    return { fallback: `a part's rows could not be re-read: ${err instanceof Error ? err.message : String(err)}` };
  }

  const columns: Column[] = [];
  const warnings: string[] = [];
  if (blankLines > 0) warnings.push(blankLinesWarning(blankLines, firstBlankLine));
  for (let c = 0; c < header.length; c++) {
    const d = decisions[c];
    const name = header[c];
    if (d.kind === 'category') {
      const inputs = held.map((h, i): PartText => texts[i].get(c) ?? partText(h, c));
      columns.push(mergeCategory(name, inputs, held, rows, d.from, rowCount));
    } else {
      const values = new Float64Array(rowCount);
      let missing = 0;
      for (const h of held) missing += (h.table.columns[c] as { missing: number }).missing;
      for (const seg of rows.segments) {
        const col = (held.find((h) => h.part === seg.part) as Held).table.columns[c] as { values: Float64Array };
        values.set(col.values.subarray(seg.localStart, seg.localStart + seg.rows), seg.globalStart);
      }
      columns.push(d.kind === 'numeric' ? { kind: 'numeric', name, values, missing } : { kind: 'time', name, values, missing, format: d.format });
    }
    if (d.warning !== null) warnings.push(d.warning);
    if (d.kind === 'numeric') {
      let nonFinite = 0;
      for (const h of held) nonFinite += h.traces[c].nonFinite;
      if (nonFinite > 0) warnings.push(nonFiniteWarning(name, nonFinite));
    }
  }
  return { table: { rowCount, columns, header, rowOffsets, lineNumbers, warnings }, rereadRows };
}

/** The byte ranges of a part's rows in the file: its batches', adjacent ones joined. */
function partRanges(rows: RowMap, part: number, rowOffsets: Float64Array): RowRange[] {
  const ranges: RowRange[] = [];
  for (const seg of rows.segments) {
    if (seg.part !== part) continue;
    // From the batch's first row to the next batch's (past any blank lines), or the last row's end.
    const from = rowOffsets[seg.globalStart];
    const to = rowOffsets[seg.globalStart + seg.rows];
    const prev = ranges[ranges.length - 1];
    if (prev !== undefined && prev.to === from) ranges[ranges.length - 1] = { ...prev, to, rows: prev.rows + seg.rows };
    else ranges.push({ from, to, firstRow: seg.localStart, rows: seg.rows });
  }
  return ranges;
}

/** A part's text column as the merge takes it. */
function partText(h: Held, c: number): PartText {
  const col = h.table.columns[c] as CategoryColumn;
  const trace = h.traces[c];
  return { codes: col.codes, dictionary: col.dictionary, rawKeys: trace.rawKeys, firstRows: trace.firstRows as Int32Array };
}

// The per-row loops are small functions of typed arrays: optimized after a few calls, where the
// same loops inside the long merge functions (run once) would stay interpreted.

/** The first index of a non-NaN value (-1: none). */
function firstNumber(values: Float64Array): number {
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i])) return i;
  return -1;
}

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

/**
 * How the file's parse decided a column, worked out from the parts (see the module comment): its
 * kind and warning; for text, the row it turned at (where its dictionary starts: 0 when it did not
 * turn) and the parts (indices in `held`) whose values must be re-read as text.
 */
type Settled =
  | { readonly kind: 'numeric'; readonly warning: string | null }
  | { readonly kind: 'time'; readonly warning: null; readonly format: TimeColumn['format'] }
  | { readonly kind: 'category'; readonly warning: string | null; readonly from: number; readonly reread: readonly number[] };
type Decision = Settled | { readonly fallback: string };

/** A part's view of one column, its rows made the file's. */
interface PartColumn {
  readonly col: Column;
  readonly trace: ColumnTrace;
  /** The file row of part row `row` (-1 stays -1). */
  readonly at: (row: number) => number;
}

function decideColumn(name: string, start: number, c: number, held: readonly Held[], rows: RowMap, lineNumbers: Int32Array): Decision {
  const cols = held.map((h): PartColumn => ({ col: h.table.columns[c], trace: h.traces[c], at: (row) => rows.global(h.part, row) }));
  const warning = (reason: DemotionReason, row: number, trace: ColumnTrace): string => demotionWarning(name, reason, lineNumbers[row], trace.demotionValue);
  const unsettled = (why: string): Decision => ({ fallback: `column ${JSON.stringify(name)}: ${why}` });
  // A column named as text is text from its first row, in every part.
  if (start === K_CATEGORY) return { kind: 'category', warning: null, from: 0, reread: [] };
  return start === K_NUMERIC ? decideNumeric(cols, warning, unsettled) : decideTime(cols, warning, unsettled);
}

type Warn = (reason: DemotionReason, row: number, trace: ColumnTrace) => string;
type Unsettled = (why: string) => Decision;

/** Parts that kept the kind they read: re-read as text when the file's column is text. */
function notText(cols: readonly PartColumn[]): number[] {
  return cols.flatMap((p, i) => (p.col.kind === 'category' ? [] : [i]));
}

/** A numeric column: numbers in some parts, and text from some row in the others. */
function decideNumeric(cols: readonly PartColumn[], warning: Warn, unsettled: Unsettled): Decision {
  let turn = -1;
  let by: ColumnTrace | null = null;
  for (const { col, trace, at } of cols) {
    if (col.kind === 'numeric' && trace.demotions === 0) continue;
    if (col.kind !== 'category' || trace.demotions !== 1 || trace.demotionReason !== 'not-a-number') return unsettled('a part changed its kind in an unexpected way');
    const row = at(trace.demotionRow);
    if (by === null || row < turn) {
      turn = row;
      by = trace;
    }
  }
  if (by === null) return { kind: 'numeric', warning: null };
  // Worth a warning when the file had a number before the turn, in any part.
  const numberBefore = cols.some(({ col, trace, at }) => {
    const first = col.kind === 'numeric' ? firstNumber(col.values) : trace.firstNumberRow;
    return first >= 0 && at(first) < turn;
  });
  return { kind: 'category', warning: numberBefore ? warning('not-a-number', turn, by) : null, from: turn, reread: notText(cols) };
}

/** What a part made of a time column: see decideTime. */
type TimeRole = 'empty' | 'times' | 'numbers' | 'numbers-text' | 'text';

/** A time column. */
function decideTime(cols: readonly PartColumn[], warning: Warn, unsettled: Unsettled): Decision {
  const roles: TimeRole[] = [];
  // The file's first value: its row, and the part that holds it.
  let first = -1;
  let owner = -1;
  for (let i = 0; i < cols.length; i++) {
    const { col, trace, at } = cols[i];
    const fresh = trace.demotedFromFreshTime;
    let role: TimeRole;
    // The part's first value: where it turned, when it turned at once, else its first time.
    let row: number;
    if (col.kind === 'time' && trace.demotions === 0) {
      role = trace.formatRow < 0 ? 'empty' : 'times';
      row = trace.formatRow;
    } else if (col.kind === 'numeric' && trace.demotions === 1 && trace.demotionReason === 'plain-numbers') {
      role = 'numbers';
      row = trace.demotionRow;
    } else if (col.kind === 'category' && trace.demotions === 2 && trace.demotionReason === 'not-a-number') {
      role = 'numbers-text';
      row = trace.firstDemotionRow;
    } else if (col.kind === 'category' && trace.demotions === 1 && trace.demotionReason === 'not-a-time') {
      role = 'text';
      row = fresh ? trace.demotionRow : trace.formatRow;
    } else {
      return unsettled('a part changed its kind in an unexpected way');
    }
    roles.push(role);
    if (row < 0) continue;
    const g = at(row);
    if (owner < 0 || g < first) {
      first = g;
      owner = i;
    }
  }
  if (owner < 0) return settledTime(cols, unsettled); // no value at all: a time column, all missing
  const readTimes = (i: number): boolean => roles[i] === 'times' || (roles[i] === 'text' && !cols[i].trace.demotedFromFreshTime);
  const has = (...which: TimeRole[]): boolean => roles.some((r) => which.includes(r));
  /** The first of the rows where parts turned the column to text (`which` of them): the row and its trace. */
  const firstTurn = (which: (i: number) => boolean): { row: number; trace: ColumnTrace } | null => {
    let best: { row: number; trace: ColumnTrace } | null = null;
    cols.forEach(({ trace, at }, i) => {
      if (!which(i)) return;
      const row = at(trace.demotionRow);
      if (best === null || row < best.row) best = { row, trace };
    });
    return best;
  };

  const ownerRole = roles[owner];
  if (ownerRole === 'text' && !readTimes(owner)) {
    // The first value is neither a time nor a number: text from there, whatever follows.
    return { kind: 'category', warning: warning('not-a-time', first, cols[owner].trace), from: first, reread: notText(cols) };
  }

  if (ownerRole === 'numbers' || ownerRole === 'numbers-text') {
    // The first value is a plain number: numeric from there, until a value that is not a number.
    if (cols.some((_, i) => readTimes(i))) return unsettled('a part read times where the first value, in another part, is a plain number');
    // Turns to text: a part's second (from numbers), another's first (a value neither a time nor a number).
    const turn = firstTurn((i) => roles[i] === 'numbers-text' || (roles[i] === 'text' && cols[i].trace.demotionStatus === ST_INVALID));
    // A part that turned to text at "inf" (not a time, but a missing number) read its later rows as text only.
    const infinite = firstTurn((i) => roles[i] === 'text' && cols[i].trace.demotionStatus !== ST_INVALID);
    if (infinite !== null && (turn === null || infinite.row < turn.row)) return unsettled('a part turned to text at a value that is a missing number in the file');
    // The file's turn to text is worth a warning: its first value was a number.
    if (turn !== null) return { kind: 'category', warning: warning('not-a-number', turn.row, turn.trace), from: turn.row, reread: notText(cols) };
    return { kind: 'numeric', warning: warning('plain-numbers', first, cols[owner].trace) };
  }

  // The first value is a time: the file's column stays a time column until a value that turns any
  // time column to text.
  if (has('numbers', 'numbers-text')) return unsettled('a part turned numeric at a plain number, which the file may read as a time');
  const unitSet = cols.some(({ trace }) => trace.epochScale !== 0);
  if (cols.some(({ trace }, i) => roles[i] === 'text' && trace.demotionStatus === ST_OK && unitSet)) {
    return unsettled('a part turned to text at a plain number after ISO times, which the epoch unit of another part may make a time');
  }
  const turn = firstTurn((i) => roles[i] === 'text');
  if (turn === null) return settledTime(cols, unsettled);
  return { kind: 'category', warning: warning('not-a-time', turn.row, turn.trace), from: turn.row, reread: notText(cols) };
}

/** A time column in every part: one epoch unit, and the format of the file's first time value. */
function settledTime(cols: readonly PartColumn[], unsettled: Unsettled): Decision {
  const scales = new Set(cols.map(({ trace }) => trace.epochScale).filter((s) => s !== 0));
  if (scales.size > 1) return unsettled('the parts read epoch times in different units');
  let format: TimeColumn['format'] = 'iso';
  let formatAt = -1;
  for (const { col, trace, at } of cols) {
    const row = at(trace.formatRow);
    if (row >= 0 && (formatAt < 0 || row < formatAt)) {
      formatAt = row;
      format = (col as TimeColumn).format;
    }
  }
  return { kind: 'time', warning: null, format };
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
 * The parts' codes (`columns[i]` is held[i]'s) as one dictionary, its values in the order the
 * file's parse met them: rows [from, n) then [0, from).
 */
function mergeCategory(name: string, columns: readonly PartText[], held: readonly Held[], rows: RowMap, from: number, n: number): CategoryColumn {
  const dictionary = new MergedDictionary();
  const rawKeys = columns.map((col) => new Map(col.rawKeys));
  const codeOf = (i: number, code: number): number => dictionary.code(columns[i].dictionary[code], rawKeys[i].get(code));
  const partIndex = new Map(held.map((h, i) => [h.part, i]));
  const codes = new Int32Array(n);
  if (from === 0) {
    // The order of the values' first rows in the file, from each part's first rows: no pass over
    // the rows to find it, then one lookup per row (a copy where a part's codes are already the file's).
    const remaps = held.map((h, i) => new Int32Array(columns[i].dictionary.length + 1).fill(-1));
    const lists = held.map((h, i) => firstRowOrder(h.part, columns[i].firstRows, rows));
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
