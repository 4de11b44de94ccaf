/**
 * anomalies.bin: every anomaly of an analysis, most severe first, as the packed AnomalyRowsJob
 * (report-job.ts) laid out on disk (sections.ts): its typed arrays as they are, its long strings
 * (reasons, text values) as UTF-8. Writing it is a few copies (no JSON text for 50,000 rows of
 * explanations, which cost ~0.4 s and 86 MB as anomalies.json); a page of the anomaly table
 * decodes only its own rows into the AnomalyRow objects the API answers (anomalyRowOf).
 * Analyses from before it have anomalies.json instead (storage/json-lines.ts); both are read.
 */
import { readFile } from 'node:fs/promises';
import type { AnomalyRow } from '../analysis/types.ts';
import { anomalyRowOf, type AnomalyRowsJob, type PackedValueColumn } from './report-job.ts';
import { encodeSections, type SectionData, Sections, writeSectionsFile } from './sections.ts';

const MAGIC = 'FSANOM01';

interface Header {
  readonly count: number;
  readonly strings: readonly string[];
  readonly columns: readonly { readonly name: string; readonly kind: PackedValueColumn['kind'] }[];
}

/** anomalies.bin's bytes for a job, in pieces (sections.ts; Buffer.concat gives the file). */
export function encodeAnomalyRowsFile(job: AnomalyRowsJob): Uint8Array[] {
  const ex = job.explanation;
  const f = job.finding;
  const sections: [string, SectionData][] = [
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
  job.valueColumns.forEach((c, i) => sections.push([`col${i}`, c.kind === 'text' ? c.texts : c.values]));
  const header: Header = { count: job.row.length, strings: job.strings, columns: job.valueColumns.map((c) => ({ name: c.name, kind: c.kind })) };
  return encodeSections(MAGIC, { ...header }, sections);
}

/** Writes anomalies.bin for a job. */
export async function writeAnomalyRowsFile(path: string, job: AnomalyRowsJob): Promise<void> {
  await writeSectionsFile(path, encodeAnomalyRowsFile(job));
}

/** A read anomalies.bin: AnomalyRow objects of any of its positions, decoded when asked for. */
export class AnomalyRowsFile {
  private constructor(private readonly file: Sections<Header>) {}

  /** Parses the file's bytes (throws on anything that is not an anomalies.bin). */
  static decode(buf: Buffer): AnomalyRowsFile {
    return new AnomalyRowsFile(Sections.decode<Header>(buf, MAGIC, 'anomalies.bin'));
  }

  static async read(path: string): Promise<AnomalyRowsFile> {
    return AnomalyRowsFile.decode(await readFile(path));
  }

  get count(): number {
    return this.file.header.count;
  }

  /** The rows at these positions (0 = most severe), in the order given. */
  rowsAt(positions: ArrayLike<number>): AnomalyRow[] {
    const { file } = this;
    const n = positions.length;
    const pick = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: new (n: number) => T): T => {
      const out = new make(n);
      for (let j = 0; j < n; j++) out[j] = a[positions[j]];
      return out;
    };
    const texts = (name: string) => Array.from({ length: n }, (_, j) => file.text(name, positions[j]));
    // The explanations of these rows, copied into flat arrays of their own.
    const start = file.i32('ex.start');
    const ownStart = new Int32Array(n + 1);
    for (let j = 0; j < n; j++) ownStart[j + 1] = ownStart[j] + (start[positions[j] + 1] - start[positions[j]]);
    const gather = <T extends Int32Array | Float64Array>(a: T, make: new (n: number) => T): T => {
      const out = new make(ownStart[n]);
      for (let j = 0; j < n; j++) out.set(a.subarray(start[positions[j]], start[positions[j] + 1]), ownStart[j]);
      return out;
    };
    const job: AnomalyRowsJob = {
      outPath: null,
      report: null,
      row: pick(file.i32('row'), Int32Array),
      line: pick(file.i32('line'), Int32Array),
      score: pick(file.f64('score'), Float64Array),
      severity: pick(file.f64('severity'), Float64Array),
      recommendation: pick(file.i32('recommendation'), Int32Array),
      valueColumns: file.header.columns.map((c, i): PackedValueColumn => {
        const name = `col${i}`;
        return c.kind === 'text' ? { name: c.name, kind: 'text', texts: texts(name) } : { name: c.name, kind: c.kind, values: pick(file.f64(name), Float64Array) };
      }),
      explanation: {
        has: pick(file.u8('ex.has'), Uint8Array),
        start: ownStart,
        feature: gather(file.i32('ex.feature'), Int32Array),
        value: gather(file.f64('ex.value'), Float64Array),
        median: gather(file.f64('ex.median'), Float64Array),
        percentile: gather(file.f64('ex.percentile'), Float64Array),
        direction: gather(file.i32('ex.direction'), Int32Array),
        weight: gather(file.f64('ex.weight'), Float64Array),
      },
      finding: {
        has: pick(file.u8('f.has'), Uint8Array),
        type: pick(file.i32('f.type'), Int32Array),
        confidence: pick(file.f64('f.confidence'), Float64Array),
        reason: texts('f.reason'),
        technique: pick(file.i32('f.technique'), Int32Array),
        incident: pick(file.i32('f.incident'), Int32Array),
      },
      strings: file.header.strings,
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
