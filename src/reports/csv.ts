/**
 * CSV cells and buffered atomic output.
 *
 * Formula-injection safety (OWASP "CSV injection"): a text cell starting with = + - @ TAB or CR is
 * prefixed with a single quote so a spreadsheet shows it as text; a real number such as -3.5 or
 * +1e3 stays as it is. Cells with a comma, quote, line break or surrounding spaces are quoted.
 *
 * Our own escaping instead of csv-stringify: the writers copy most rows' bytes unchanged and only
 * format the appended columns; with csv-stringify every cell of every row would be a string going
 * through its transform stream (`npm run bench:parse` prints the writers' times).
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const NEEDS_QUOTES = /[",\r\n]|^[ \t]|[ \t]$/;

/** True when a cell starting with this text would be run as a formula by a spreadsheet. */
export function isFormulaLike(text: string): boolean {
  if (text.length === 0) return false;
  const c = text.charCodeAt(0);
  if (c === 61 /* = */ || c === 64 /* @ */ || c === 9 || c === 13) return true;
  if (c === 43 /* + */ || c === 45 /* - */) return !NUMBER.test(text);
  return false;
}

/** A text value as a safe CSV cell. */
export function csvCell(text: string): string {
  const t = isFormulaLike(text) ? `'${text}` : text;
  return NEEDS_QUOTES.test(t) ? `"${t.replaceAll('"', '""')}"` : t;
}

/** Decimals of the score and severity columns, the same in every CSV the app writes. */
export const SCORE_DIGITS = 6;
export const SEVERITY_DIGITS = 2;

/** A number as a CSV cell with `digits` decimals ('' when not finite). */
export function numberCell(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '';
}

/**
 * Output collected in memory and written in large pieces to `<outPath>.tmp`, renamed to `outPath`
 * on commit; on abort the temporary file is removed, so a failed write leaves nothing behind.
 */
export class AtomicOutput {
  private buf = Buffer.allocUnsafe(8 << 20);
  private pos = 0;

  private constructor(
    private readonly fh: FileHandle,
    private readonly tmpPath: string,
    private readonly outPath: string,
  ) {}

  /** `tmpPath` (default `<outPath>.tmp`) must be on the same file system as `outPath`. */
  static async create(outPath: string, tmpPath?: string): Promise<AtomicOutput> {
    const tmp = tmpPath ?? `${outPath}.tmp`;
    return new AtomicOutput(await open(tmp, 'w'), tmp, outPath);
  }

  /** Bytes waiting in memory. */
  get pending(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + extra));
    this.buf.copy(b, 0, 0, this.pos);
    this.buf = b;
  }

  text(s: string): void {
    this.ensure(s.length * 3);
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  bytes(src: Uint8Array, start: number, end: number): void {
    this.ensure(end - start);
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }

  async flush(): Promise<void> {
    let off = 0;
    while (off < this.pos) {
      const { bytesWritten } = await this.fh.write(this.buf, off, this.pos - off);
      off += bytesWritten;
    }
    this.pos = 0;
  }

  /** Flushes when more than `threshold` bytes wait. */
  async flushIfOver(threshold = 4 << 20): Promise<void> {
    if (this.pos > threshold) await this.flush();
  }

  async commit(): Promise<void> {
    await this.flush();
    await this.fh.close();
    await rename(this.tmpPath, this.outPath);
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
    await rm(this.tmpPath, { force: true });
  }
}

/** Runs `fill` against a fresh AtomicOutput, committing on success and cleaning up on failure. */
export async function writeAtomically(outPath: string, fill: (out: AtomicOutput) => Promise<void>, tmpPath?: string): Promise<void> {
  const out = await AtomicOutput.create(outPath, tmpPath);
  try {
    await fill(out);
  } catch (err) {
    await out.abort();
    throw err;
  }
  await out.commit();
}

/**
 * Names for columns appended to a source header: a name the source already has gets a
 * 'detected_' prefix (and a number if that is taken too), so no column is ever duplicated.
 */
export function appendedNames(header: readonly string[], names: readonly string[]): string[] {
  const taken = new Set(header);
  return names.map((n) => {
    let name = n;
    if (taken.has(name)) name = `detected_${n}`;
    for (let i = 2; taken.has(name); i++) name = `detected_${n}_${i}`;
    taken.add(name);
    return name;
  });
}
