/**
 * anomalies.bin: every anomaly of an analysis, most severe first, as the packed AnomalyRowsJob
 * (report-job.ts) laid out on disk: its typed arrays as they are, its long strings (reasons, text
 * values) as UTF-8 with offsets. Writing it is a few copies (no JSON text for 50,000 rows of
 * explanations, which cost ~0.4 s and 86 MB as anomalies.json); a page of the anomaly table
 * decodes only its own rows into the AnomalyRow objects the API answers (anomalyRowOf).
 *
 * Layout (little-endian):
 *   'FSANOM01'                      8 bytes
 *   u32 header length, header JSON  { count, contributions, strings, columns, sections }, padded
 *                                   with spaces so the sections start at a multiple of 8
 *   sections                        each at the byte offset the header gives (a multiple of 8):
 *                                   typed arrays, and text as Float64 offsets[count + 1] + UTF-8 bytes
 * Analyses from before it have anomalies.json instead (storage/json-lines.ts); both are read.
 */
import { open, readFile } from 'node:fs/promises';
import type { AnomalyRow } from '../analysis/types.ts';
import { anomalyRowOf, type AnomalyRowsJob, type PackedValueColumn } from './report-job.ts';

const MAGIC = 'FSANOM01';

type Typed = Int32Array | Float64Array | Uint8Array;
type TypedKind = 'i32' | 'f64' | 'u8';

interface Header {
  readonly count: number;
  /** Length of the flat explanation arrays. */
  readonly contributions: number;
  readonly strings: readonly string[];
  readonly columns: readonly { readonly name: string; readonly kind: PackedValueColumn['kind'] }[];
  /** Section name → [byte offset, element count, kind]. */
  readonly sections: Readonly<Record<string, readonly [number, number, TypedKind | 'text']>>;
}

/** The job's arrays by section name (value columns are `col<i>`). */
function sectionsOf(job: AnomalyRowsJob): [string, Typed | readonly string[]][] {
  const ex = job.explanation;
  const f = job.finding;
  const out: [string, Typed | readonly string[]][] = [
    ['row', job.row],
    ['line', job.line],
    ['score', job.score],
    ['severity', job.severity],
    ['recommendation', job.recommendation],
    ['ex.has', ex.has],
    ['ex.start', ex.start],
    ['ex.feature', ex.feature],
    ['ex.value', ex.value],
    ['ex.median', ex.median],
    ['ex.percentile', ex.percentile],
    ['ex.direction', ex.direction],
    ['ex.weight', ex.weight],
    ['f.has', f.has],
    ['f.type', f.type],
    ['f.confidence', f.confidence],
    ['f.technique', f.technique],
    ['f.incident', f.incident],
    ['f.reason', f.reason],
  ];
  job.valueColumns.forEach((c, i) => out.push([`col${i}`, c.kind === 'text' ? c.texts : c.values]));
  return out;
}

const align8 = (n: number) => (n + 7) & ~7;

function kindOf(a: Typed): TypedKind {
  return a instanceof Int32Array ? 'i32' : a instanceof Float64Array ? 'f64' : 'u8';
}

/** anomalies.bin's bytes for a job. */
export function encodeAnomalyRowsFile(job: AnomalyRowsJob): Buffer {
  const count = job.row.length;
  // Texts first become one UTF-8 blob each, with their offsets.
  const parts: { name: string; bytes: Uint8Array; length: number; kind: TypedKind | 'text' }[] = [];
  for (const [name, data] of sectionsOf(job)) {
    if (Array.isArray(data)) {
      const texts = data as readonly string[];
      let size = 0;
      for (const t of texts) size += t.length * 3;
      const blob = Buffer.allocUnsafe(size);
      const offsets = new Float64Array(texts.length + 1);
      let pos = 0;
      for (let k = 0; k < texts.length; k++) {
        offsets[k] = pos;
        pos += blob.write(texts[k], pos, 'utf8');
      }
      offsets[texts.length] = pos;
      const bytes = new Uint8Array(offsets.byteLength + pos);
      bytes.set(new Uint8Array(offsets.buffer), 0);
      bytes.set(blob.subarray(0, pos), offsets.byteLength);
      parts.push({ name, bytes, length: texts.length, kind: 'text' });
    } else {
      const a = data as Typed;
      parts.push({ name, bytes: new Uint8Array(a.buffer, a.byteOffset, a.byteLength), length: a.length, kind: kindOf(a) });
    }
  }
  const sections: Record<string, [number, number, TypedKind | 'text']> = {};
  const layout = (base: number) => {
    let at = base;
    for (const p of parts) {
      sections[p.name] = [at, p.length, p.kind];
      at = align8(at + p.bytes.byteLength);
    }
    return at;
  };
  // The header's length depends on the offsets it lists, which depend on its length: settle it.
  let headerLength = 0;
  let text = '';
  for (;;) {
    const base = align8(MAGIC.length + 4 + headerLength);
    layout(base);
    const header: Header = {
      count,
      contributions: job.explanation.feature.length,
      strings: job.strings,
      columns: job.valueColumns.map((c) => ({ name: c.name, kind: c.kind })),
      sections,
    };
    text = JSON.stringify(header);
    const bytes = Buffer.byteLength(text);
    if (align8(MAGIC.length + 4 + bytes) === base) {
      headerLength = base - MAGIC.length - 4;
      break;
    }
    headerLength = bytes;
  }
  const total = layout(MAGIC.length + 4 + headerLength);
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(headerLength, MAGIC.length);
  out.write(text.padEnd(headerLength, ' '), MAGIC.length + 4, 'utf8');
  for (const p of parts) out.set(p.bytes, sections[p.name][0]);
  return out;
}

/** Writes anomalies.bin for a job. */
export async function writeAnomalyRowsFile(path: string, job: AnomalyRowsJob): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const bytes = encodeAnomalyRowsFile(job);
    let off = 0;
    while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
  } finally {
    await fh.close();
  }
}

/** A read anomalies.bin: AnomalyRow objects of any of its positions, decoded when asked for. */
export class AnomalyRowsFile {
  private constructor(
    private readonly buf: Buffer,
    private readonly header: Header,
  ) {}

  /** Parses the file's bytes (throws on anything that is not an anomalies.bin). */
  static decode(buf: Buffer): AnomalyRowsFile {
    if (buf.length < MAGIC.length + 4 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) throw new Error('Not an anomalies.bin file');
    const headerLength = buf.readUInt32LE(MAGIC.length);
    const header = JSON.parse(buf.toString('utf8', MAGIC.length + 4, MAGIC.length + 4 + headerLength)) as Header;
    for (const [name, [at, length, kind]] of Object.entries(header.sections)) {
      const bytes = kind === 'text' ? 8 * (length + 1) : length * (kind === 'u8' ? 1 : kind === 'i32' ? 4 : 8);
      if (at % 8 !== 0 || at + bytes > buf.length) throw new Error(`anomalies.bin: section ${name} is out of bounds`);
    }
    return new AnomalyRowsFile(buf, header);
  }

  static async read(path: string): Promise<AnomalyRowsFile> {
    return AnomalyRowsFile.decode(await readFile(path));
  }

  get count(): number {
    return this.header.count;
  }

  private typed(name: string): Typed {
    const [at, length, kind] = this.header.sections[name];
    const { buffer, byteOffset } = this.buf;
    if (kind === 'i32') return new Int32Array(buffer, byteOffset + at, length);
    if (kind === 'f64') return new Float64Array(buffer, byteOffset + at, length);
    if (kind === 'u8') return new Uint8Array(buffer, byteOffset + at, length);
    throw new Error(`anomalies.bin: section ${name} is not an array`);
  }

  private text(name: string, k: number): string {
    const [at, length] = this.header.sections[name];
    const offsets = new Float64Array(this.buf.buffer, this.buf.byteOffset + at, length + 1);
    const blob = at + offsets.byteLength;
    return this.buf.toString('utf8', blob + offsets[k], blob + offsets[k + 1]);
  }

  /** The rows at these positions (0 = most severe), in the order given. */
  rowsAt(positions: ArrayLike<number>): AnomalyRow[] {
    const n = positions.length;
    const pick = <T extends Typed>(a: T, make: new (n: number) => T): T => {
      const out = new make(n);
      for (let j = 0; j < n; j++) out[j] = a[positions[j]];
      return out;
    };
    const texts = (name: string) => Array.from({ length: n }, (_, j) => this.text(name, positions[j]));
    // The explanations of these rows, copied into flat arrays of their own.
    const start = this.typed('ex.start') as Int32Array;
    const flat = {
      feature: this.typed('ex.feature') as Int32Array,
      value: this.typed('ex.value') as Float64Array,
      median: this.typed('ex.median') as Float64Array,
      percentile: this.typed('ex.percentile') as Float64Array,
      direction: this.typed('ex.direction') as Int32Array,
      weight: this.typed('ex.weight') as Float64Array,
    };
    const ownStart = new Int32Array(n + 1);
    for (let j = 0; j < n; j++) ownStart[j + 1] = ownStart[j] + (start[positions[j] + 1] - start[positions[j]]);
    const gather = <T extends Int32Array | Float64Array>(a: T, make: new (n: number) => T): T => {
      const out = new make(ownStart[n]);
      for (let j = 0; j < n; j++) out.set(a.subarray(start[positions[j]], start[positions[j] + 1]), ownStart[j]);
      return out;
    };
    const job: AnomalyRowsJob = {
      outPath: '',
      report: null,
      row: pick(this.typed('row') as Int32Array, Int32Array),
      line: pick(this.typed('line') as Int32Array, Int32Array),
      score: pick(this.typed('score') as Float64Array, Float64Array),
      severity: pick(this.typed('severity') as Float64Array, Float64Array),
      recommendation: pick(this.typed('recommendation') as Int32Array, Int32Array),
      valueColumns: this.header.columns.map((c, i): PackedValueColumn => {
        const name = `col${i}`;
        return c.kind === 'text'
          ? { name: c.name, kind: 'text', texts: texts(name) }
          : { name: c.name, kind: c.kind, values: pick(this.typed(name) as Float64Array, Float64Array) };
      }),
      explanation: {
        has: pick(this.typed('ex.has') as Uint8Array, Uint8Array),
        start: ownStart,
        feature: gather(flat.feature, Int32Array),
        value: gather(flat.value, Float64Array),
        median: gather(flat.median, Float64Array),
        percentile: gather(flat.percentile, Float64Array),
        direction: gather(flat.direction, Int32Array),
        weight: gather(flat.weight, Float64Array),
      },
      finding: {
        has: pick(this.typed('f.has') as Uint8Array, Uint8Array),
        type: pick(this.typed('f.type') as Int32Array, Int32Array),
        confidence: pick(this.typed('f.confidence') as Float64Array, Float64Array),
        reason: texts('f.reason'),
        technique: pick(this.typed('f.technique') as Int32Array, Int32Array),
        incident: pick(this.typed('f.incident') as Int32Array, Int32Array),
      },
      strings: this.header.strings,
    };
    return Array.from({ length: n }, (_, j) => anomalyRowOf(job, j));
  }

  /** Rows [from, to) (clamped), most severe first. */
  rows(from: number, to: number): AnomalyRow[] {
    const a = Math.max(0, Math.min(from, this.count));
    const b = Math.max(a, Math.min(to, this.count));
    return this.rowsAt(Int32Array.from({ length: b - a }, (_, j) => a + j));
  }
}
