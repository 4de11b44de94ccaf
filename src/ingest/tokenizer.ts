/**
 * The byte-level CSV tokenizer (RFC 4180 plus the leniencies users' files need).
 *
 * One call splits one record into field boundaries inside the buffer, without making strings:
 * `starts[i]`, `ends[i]` and `flags[i]` (0 plain, 1 quoted, 2 quoted with doubled quotes inside).
 * Spaces and tabs around a field are trimmed (inside quotes they are kept). A quote inside an
 * unquoted field is literal. Records end at LF, CRLF or a lone CR. When the buffer ends inside a
 * record and more data may follow, `next` returns -1 and the caller retries with more bytes.
 */
import { CsvFormatError } from './types.ts';

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;
const SP = 32;
const TAB = 9;

export const FIELD_PLAIN = 0;
export const FIELD_QUOTED = 1;
export const FIELD_ESCAPED = 2;

export class CsvTokenizer {
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  flags = new Uint8Array(64);
  /** Fields in the last record. */
  count = 0;
  /** Line breaks inside the last record, its terminator included. */
  newlines = 0;

  private grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    const e = new Int32Array(n);
    e.set(this.ends);
    const f = new Uint8Array(n);
    f.set(this.flags);
    this.starts = s;
    this.ends = e;
    this.flags = f;
  }

  /**
   * Tokenizes the record starting at `p` (buf.length is the end of the data at hand).
   * Returns the position after the record's terminator, or -1 when the record is incomplete and
   * `isLast` is false. `line` is the record's first line, used only for error positions.
   */
  next(buf: Uint8Array, p: number, isLast: boolean, line: number): number {
    const end = buf.length;
    let f = 0;
    let nl = 0;
    let starts = this.starts;
    let ends = this.ends;
    let flags = this.flags;
    for (;;) {
      while (p < end && (buf[p] === SP || buf[p] === TAB)) p++;
      let fs: number;
      let fe: number;
      let flag = FIELD_PLAIN;
      if (p < end && buf[p] === QUOTE) {
        const openLine = line + nl;
        p++;
        fs = p;
        flag = FIELD_QUOTED;
        for (;;) {
          if (p >= end) {
            if (!isLast) return -1;
            throw new CsvFormatError(
              `Line ${openLine}, column ${f + 1}: a quoted field is never closed (unterminated quote)`,
              openLine,
              f + 1,
            );
          }
          const c = buf[p];
          if (c === QUOTE) {
            if (p + 1 < end) {
              if (buf[p + 1] === QUOTE) {
                flag = FIELD_ESCAPED;
                p += 2;
                continue;
              }
            } else if (!isLast) {
              return -1;
            }
            fe = p;
            p++;
            break;
          }
          if (c === LF) nl++;
          else if (c === CR) {
            if (p + 1 >= end && !isLast) return -1;
            if (p + 1 >= end || buf[p + 1] !== LF) nl++;
          }
          p++;
        }
        while (p < end && (buf[p] === SP || buf[p] === TAB)) p++;
      } else {
        fs = p;
        while (p < end) {
          const c = buf[p];
          // Every byte that ends a field is at most ',' (44): most field bytes take one test.
          if (c <= COMMA && (c === COMMA || c === LF || c === CR)) break;
          p++;
        }
        fe = p;
        while (fe > fs && (buf[fe - 1] === SP || buf[fe - 1] === TAB)) fe--;
      }
      if (f === starts.length) {
        this.grow();
        starts = this.starts;
        ends = this.ends;
        flags = this.flags;
      }
      starts[f] = fs;
      ends[f] = fe;
      flags[f] = flag;
      f++;
      if (p >= end) {
        if (!isLast) return -1;
        this.count = f;
        this.newlines = nl;
        return end;
      }
      const c = buf[p];
      if (c === COMMA) {
        p++;
        continue;
      }
      if (c === LF) {
        this.count = f;
        this.newlines = nl + 1;
        return p + 1;
      }
      if (c === CR) {
        if (p + 1 >= end) {
          if (!isLast) return -1;
          this.count = f;
          this.newlines = nl + 1;
          return p + 1;
        }
        this.count = f;
        this.newlines = nl + 1;
        return buf[p + 1] === LF ? p + 2 : p + 1;
      }
      throw new CsvFormatError(
        `Line ${line + nl}, column ${f}: unexpected character ${JSON.stringify(String.fromCharCode(c))} after a closing quote`,
        line + nl,
        f,
      );
    }
  }

  /** True when the last record is a blank line (a single empty unquoted field). */
  isBlank(): boolean {
    return this.count === 1 && this.flags[0] === FIELD_PLAIN && this.starts[0] === this.ends[0];
  }

  /** The text of field i of the last record (quotes removed, doubled quotes undone). */
  text(buf: Buffer, i: number): string {
    const t = buf.toString('utf8', this.starts[i], this.ends[i]);
    return this.flags[i] === FIELD_ESCAPED ? t.replaceAll('""', '"') : t;
  }

  /** All fields of the last record as strings. */
  fields(buf: Buffer): string[] {
    const out = new Array<string>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.text(buf, i);
    return out;
  }
}

/**
 * Undoes the doubled quotes of escaped fields (FIELD_ESCAPED) into a buffer of its own, reused from
 * one field to the next: no allocation per field.
 */
export class FieldUnescaper {
  private out = Buffer.alloc(256);

  /** The field buf[s, e) with each "" made one quote; valid until the next call. */
  unescape(buf: Buffer, s: number, e: number): Buffer {
    if (this.out.length < e - s) this.out = Buffer.alloc((e - s) * 2);
    const out = this.out;
    let k = 0;
    for (let i = s; i < e; i++) {
      out[k++] = buf[i];
      if (buf[i] === 34 && i + 1 < e && buf[i + 1] === 34) i++;
    }
    return out.subarray(0, k);
  }
}

/**
 * Splits a whole CSV text into records of strings (blank lines skipped). For tests, tools and small
 * inputs; parsing into a FlowTable does not build these strings.
 */
export function tokenizeCsv(input: Buffer | string): string[][] {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  const tok = new CsvTokenizer();
  const rows: string[][] = [];
  let p = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  let line = 1;
  while (p < buf.length) {
    const next = tok.next(buf, p, true, line);
    if (!tok.isBlank()) rows.push(tok.fields(buf));
    line += tok.newlines;
    p = next;
  }
  return rows;
}

/**
 * The fields of one record whose bytes are `buf` (e.g. a row read back through
 * FlowTable.rowOffsets; a trailing line break is allowed).
 */
export function recordFields(buf: Buffer): string[] {
  const tok = new CsvTokenizer();
  tok.next(buf, 0, true, 1);
  return tok.fields(buf);
}
