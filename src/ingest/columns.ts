/**
 * Column builders: one per header column, filled row by row straight from field bytes.
 *
 * A column starts as what its name suggests (known text names → category, known time names →
 * time, forced numeric → numeric, anything else → numeric) and is demoted when a value does not
 * fit: time → numeric (small plain numbers) or category; numeric (not forced) → category. Earlier
 * rows of a demoted column are re-read from the source at the end (`pendingUntil`), so a category
 * keeps every value's original text. Each builder also keeps how its kind was decided (where it
 * was demoted and why, where its time format and first number were seen): the warnings are
 * written from that, and merge.ts uses it to join builders that each read a part of a file.
 */
import { ByteDictionary } from './dictionary.ts';
import {
  type DecodeResult,
  decodeNumber,
  decodeTime,
  ST_INVALID,
  ST_MISSING,
  ST_NONFINITE,
  ST_OK,
} from './values.ts';
import { type Column, CsvFormatError } from './types.ts';

export const K_NUMERIC = 0;
export const K_CATEGORY = 1;
export const K_TIME = 2;

/** Epoch numbers at or above this are milliseconds; below, seconds (1e11 s is the year 5138). */
const EPOCH_MILLIS_FROM = 1e11;
/** Epoch seconds below this (1973-03-03) are not taken as times: the column is numeric. */
const EPOCH_SECONDS_FROM = 1e8;

const TEXT_NAMES = new Set([
  'sourceip', 'destinationip', 'srcip', 'dstip', 'srcaddr', 'dstaddr', 'sourceaddress',
  'destinationaddress', 'sa', 'da', 'idorigh', 'idresph', 'protocol', 'proto', 'pr', 'label',
  'attacktype', 'flowid', 'service', 'connstate', 'uid', 'flags', 'flg', 'history', 'srcmac', 'dstmac',
]);
const TIME_NAMES = new Set([
  'timestamp', 'time', 'ts', 'te', 'tr', 'date', 'datetime', 'starttime', 'endtime', 'stime', 'ltime',
  'firstseen', 'lastseen', 'flowstart', 'flowend', 'eventtime', 'receivedtime', 'timestart', 'timeend',
]);

/** 'Src IP' → 'srcip': names compared without case, spaces, dots, dashes or underscores. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

export function isTextName(name: string): boolean {
  return TEXT_NAMES.has(normalizeName(name));
}

export function isTimeName(name: string): boolean {
  return TIME_NAMES.has(normalizeName(name));
}

/** At most 40 characters of a value, for messages. */
export function shorten(value: string, max = 40): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

/** A field's text as messages quote it: shortened, in JSON quotes. */
function quoted(buf: Buffer, s: number, e: number): string {
  return JSON.stringify(shorten(buf.toString('utf8', s, e)));
}

/** Why a column changed kind: each gives its own warning (see demotionWarning). */
export type DemotionReason = 'not-a-number' | 'not-a-time' | 'plain-numbers';

/** The warning for a column demoted at `line` by the value `value` (already quoted and shortened). */
export function demotionWarning(name: string, reason: DemotionReason, line: number, value: string): string {
  const column = `Column ${JSON.stringify(name)}`;
  if (reason === 'plain-numbers') return `${column} looks like a time column but holds plain numbers (line ${line}: ${value}), so it is numeric.`;
  if (reason === 'not-a-time') return `${column} looks like a time column but has a value that is not a time at line ${line} (${value}), so it is treated as text.`;
  return `${column} has a value that is not a number at line ${line} (${value}), so it is treated as text.`;
}

/**
 * Zeroed typed arrays, on a SharedArrayBuffer when `shared`. A parse worker's part (part.ts) is
 * built on shared memory: postMessage then hands it to the main thread without copying it and
 * without detaching an ArrayBuffer in the worker, whose first detach would make V8 drop the
 * optimized code of the parser's typed-array loops and compile it again with detach checks, slower.
 */
export function zeroFloat64(length: number, shared: boolean): Float64Array {
  return shared ? new Float64Array(new SharedArrayBuffer(length * 8)) : new Float64Array(length);
}

export function zeroInt32(length: number, shared: boolean): Int32Array {
  return shared ? new Int32Array(new SharedArrayBuffer(length * 4)) : new Int32Array(length);
}

/** The kind a column starts as, from its name (see the module comment). */
export function initialKind(name: string, forced: boolean): number {
  if (forced) return K_NUMERIC;
  if (isTextName(name)) return K_CATEGORY;
  if (isTimeName(name)) return K_TIME;
  return K_NUMERIC;
}

export class ColumnBuilder {
  kind: number;
  values: Float64Array;
  codes: Int32Array | null = null;
  dict: ByteDictionary | null = null;
  missing = 0;
  /** Rows [0, pendingUntil) are to be re-read from the source into the current kind. */
  pendingUntil = 0;
  nonFinite = 0;
  sawIso = false;
  epochScale = 0; // 0 undecided, 1 millis, 1000 seconds
  timeFormat: 'iso' | 'epoch-seconds' | 'epoch-millis' | null = null;
  /** The row whose value set timeFormat (-1 before). */
  formatRow = -1;
  /** Kind changes so far; the last one is described by the fields below. */
  demotions = 0;
  /** The row of the first change (-1 before): a time column's first value, when it turned numeric there. */
  firstDemotionRow = -1;
  demotionReason: DemotionReason | null = null;
  demotionLine = 0;
  /** The value that caused it, quoted and shortened for the warning. */
  demotionValue = '';
  /**
   * That value read as a number (ST_OK, ST_NONFINITE or ST_INVALID): for merge.ts, which must know
   * whether another part's state would have read it as a time or a number instead.
   */
  demotionStatus = ST_INVALID;
  /**
   * Whether it is worth a warning: a numeric column turning into text is no news when no number
   * came before (a plain text column whose name we did not know).
   */
  demotionWarns = false;
  /** A time column demoted by its first value that was not missing (nothing was read as a time). */
  demotedFromFreshTime = false;
  /** When a numeric column turned into text: the first row that held a number (-1: none). */
  firstNumberRow = -1;
  private readonly res: DecodeResult = { status: ST_OK, epoch: false };

  constructor(
    readonly name: string,
    readonly position: number, // 1-based
    readonly forced: boolean,
    capacity: number,
    /** Arrays on shared memory (see zeroFloat64). */
    private readonly shared = false,
    kind = initialKind(name, forced),
  ) {
    this.kind = kind;
    if (this.kind === K_CATEGORY) {
      this.values = new Float64Array(0);
      this.codes = zeroInt32(capacity, shared);
      this.dict = new ByteDictionary();
    } else {
      this.values = zeroFloat64(capacity, shared);
    }
  }

  /**
   * A text column at `position` whose rows [0, rows) are all still to be read (re-read as text
   * through a RowRefiller: a part's column that the file's parse turned to text, see reread.ts).
   */
  static pendingText(position: number, rows: number, shared: boolean): ColumnBuilder {
    const b = new ColumnBuilder(`column ${position}`, position, false, rows, shared, K_CATEGORY);
    b.pendingUntil = rows;
    return b;
  }

  grow(capacity: number): void {
    if (this.codes !== null) {
      const c = zeroInt32(capacity, this.shared);
      c.set(this.codes.subarray(0, Math.min(this.codes.length, capacity)));
      this.codes = c;
    } else {
      const v = zeroFloat64(capacity, this.shared);
      v.set(this.values.subarray(0, Math.min(this.values.length, capacity)));
      this.values = v;
    }
  }

  add(buf: Buffer, s: number, e: number, row: number, line: number): void {
    const kind = this.kind;
    if (kind === K_NUMERIC) {
      const v = decodeNumber(buf, s, e, this.res);
      const st = this.res.status;
      if (st === ST_OK) {
        this.values[row] = v;
        return;
      }
      if (st === ST_MISSING) {
        this.values[row] = NaN;
        this.missing++;
        return;
      }
      if (this.forced) this.fail(buf, s, e, line, st === ST_NONFINITE);
      if (st === ST_NONFINITE) {
        this.values[row] = NaN;
        this.missing++;
        this.nonFinite++;
        return;
      }
      // Only worth a warning when earlier values were numbers: a plain text column is no news.
      const numbers = row - this.missing - this.pendingUntil;
      this.toCategory(row, line, quoted(buf, s, e), 'not-a-number', numbers > 0, ST_INVALID);
      this.addCategory(buf, s, e, row);
      return;
    }
    if (kind === K_CATEGORY) {
      this.addCategory(buf, s, e, row);
      return;
    }
    this.addTime(buf, s, e, row, line);
  }

  private addCategory(buf: Buffer, s: number, e: number, row: number): void {
    (this.codes as Int32Array)[row] = s === e ? -1 : (this.dict as ByteDictionary).code(buf, s, e);
  }

  private addTime(buf: Buffer, s: number, e: number, row: number, line: number): void {
    const v = decodeTime(buf, s, e, this.res);
    const st = this.res.status;
    if (st === ST_OK) {
      if (!this.res.epoch) {
        this.sawIso = true;
        if (this.timeFormat === null) this.setFormat('iso', row);
        this.values[row] = v;
        return;
      }
      if (this.epochScale === 0) {
        const a = Math.abs(v);
        if (a >= EPOCH_MILLIS_FROM) this.epochScale = 1;
        else if (a >= EPOCH_SECONDS_FROM) this.epochScale = 1000;
        else {
          this.demoteTime(buf, s, e, row, line);
          return;
        }
        if (this.timeFormat === null) this.setFormat(this.epochScale === 1 ? 'epoch-millis' : 'epoch-seconds', row);
      }
      this.values[row] = v * this.epochScale;
      return;
    }
    if (st === ST_MISSING) {
      this.values[row] = NaN;
      this.missing++;
      return;
    }
    this.demoteTime(buf, s, e, row, line);
  }

  private setFormat(format: 'iso' | 'epoch-seconds' | 'epoch-millis', row: number): void {
    this.timeFormat = format;
    this.formatRow = row;
  }

  private demoteTime(buf: Buffer, s: number, e: number, row: number, line: number): void {
    const text = quoted(buf, s, e);
    this.demotedFromFreshTime = this.demotions === 0 && !this.sawIso && this.epochScale === 0;
    decodeNumber(buf, s, e, this.res);
    const status = this.res.status;
    if (!this.sawIso && status === ST_OK) {
      this.kind = K_NUMERIC;
      this.pendingUntil = row;
      this.missing = 0;
      this.epochScale = 0;
      this.demoted(row, line, text, 'plain-numbers', true, status);
      this.add(buf, s, e, row, line);
      return;
    }
    this.toCategory(row, line, text, 'not-a-time', true, status);
    this.addCategory(buf, s, e, row);
  }

  private toCategory(row: number, line: number, text: string, reason: DemotionReason, warns: boolean, status: number): void {
    // Rows [pendingUntil, row) hold what was read as numbers: note the first (for merge.ts).
    this.firstNumberRow = -1;
    if (this.kind === K_NUMERIC && warns) {
      for (let r = this.pendingUntil; r < row; r++) {
        if (!Number.isNaN(this.values[r])) {
          this.firstNumberRow = r;
          break;
        }
      }
    }
    this.kind = K_CATEGORY;
    this.codes = zeroInt32(this.values.length, this.shared);
    this.values = new Float64Array(0);
    this.dict = new ByteDictionary();
    this.pendingUntil = row;
    this.missing = 0;
    this.nonFinite = 0;
    this.demoted(row, line, text, reason, warns, status);
  }

  private demoted(row: number, line: number, text: string, reason: DemotionReason, warns: boolean, status: number): void {
    if (this.demotions === 0) this.firstDemotionRow = row;
    this.demotionStatus = status;
    this.demotions++;
    this.demotionReason = reason;
    this.demotionLine = line;
    this.demotionValue = text;
    this.demotionWarns = warns;
  }

  /** The warning about the kind change, if it is worth one. */
  get demotion(): string | null {
    return this.demotionWarns && this.demotionReason !== null
      ? demotionWarning(this.name, this.demotionReason, this.demotionLine, this.demotionValue)
      : null;
  }

  private fail(buf: Buffer, s: number, e: number, line: number, nonFinite: boolean): never {
    const text = shorten(buf.toString('utf8', s, e));
    throw new CsvFormatError(
      `Line ${line}, column ${this.position} (${this.name}): expected a number, got ${JSON.stringify(text)}${nonFinite ? ' (not a finite number)' : ''}`,
      line,
      this.position,
      this.name,
    );
  }

  /** Re-reads a row below `pendingUntil` from the source, into the column's final kind. */
  refill(buf: Buffer, s: number, e: number, row: number): void {
    if (this.kind === K_CATEGORY) {
      this.addCategory(buf, s, e, row);
      return;
    }
    // Only time → numeric reaches here: every earlier value was a number or missing.
    const v = decodeNumber(buf, s, e, this.res);
    const st = this.res.status;
    this.values[row] = st === ST_OK ? v : NaN;
    if (st !== ST_OK) this.missing++;
    if (st === ST_NONFINITE) this.nonFinite++;
  }

  /** The column of the first `rowCount` rows; `compact`: copied when the arrays are 5 % too long. */
  build(rowCount: number, compact = true): Column {
    const trim = <T extends Float64Array | Int32Array>(a: T): T =>
      (compact && a.length - rowCount > rowCount / 20 ? a.slice(0, rowCount) : a.subarray(0, rowCount)) as T;
    if (this.kind === K_CATEGORY) {
      return {
        kind: 'category',
        name: this.name,
        codes: trim(this.codes as Int32Array),
        dictionary: (this.dict as ByteDictionary).strings,
      };
    }
    if (this.kind === K_TIME) {
      return {
        kind: 'time',
        name: this.name,
        values: trim(this.values),
        missing: this.missing,
        format: this.timeFormat ?? 'iso',
      };
    }
    return { kind: 'numeric', name: this.name, values: trim(this.values), missing: this.missing };
  }
}
