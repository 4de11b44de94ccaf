/**
 * Every anomaly of an analysis as a job of plain data: typed arrays and string lists indexed by
 * the anomaly's position k, no Maps, no object per row. The pipeline packs it on the main thread
 * (`packAnomalyRowsJob`) and runs it either in-process or in a report worker (report-worker.ts):
 * it becomes anomalies.bin (the same arrays on disk, anomalies-file.ts) and the anomaly report CSV.
 * Both ways run the same writers on the same data (structured clone keeps every number and
 * string), so the files are byte for byte the same; the summary's top anomalies and every page of
 * the anomaly table are made by `anomalyRowOf` from the same data.
 */
import type { AnomalyRow } from '../analysis/types.ts';
import { ExplanationSet, type Explanations } from '../detection/explanation-set.ts';
import type { Explanation, FeatureContribution } from '../detection/types.ts';
import type { AttackType, FlowFinding } from '../findings/types.ts';
import { type Column, columnValueAsText, type FlowTable, formatTimestamp } from '../ingest/index.ts';
import { writeAnomalyRowsFile } from './anomalies-file.ts';
import { prepareAnomalyReport, type PreparedReport, writePreparedReport } from './writers.ts';
import { settleAll } from '../lib/settle.ts';

/** One column of AnomalyRow.values (index k is the k-th anomaly). */
export type PackedValueColumn =
  | { readonly name: string; readonly kind: 'number'; readonly values: Float64Array }
  | { readonly name: string; readonly kind: 'time'; readonly values: Float64Array }
  | { readonly name: string; readonly kind: 'text'; readonly texts: readonly string[] };

/** Everything anomalies.bin (and the anomaly report CSV) say about their rows, by position k (most severe first). */
export interface AnomalyRowsJob {
  /** anomalies.bin; null: not in this job (see reportOnlyJob). */
  readonly outPath: string | null;
  /** The anomaly report CSV too (writers.ts), from the source's bytes [starts[k], ends[k]); null: not in this job. */
  readonly report: {
    readonly sourcePath: string;
    readonly outPath: string;
    readonly header: readonly string[];
    readonly starts: Float64Array;
    readonly ends: Float64Array;
  } | null;
  readonly row: Int32Array;
  readonly line: Int32Array;
  readonly score: Float64Array;
  /** Exact severities (AnomalyRow.severity rounds them to 2 decimals). */
  readonly severity: Float64Array;
  /** AnomalyRow.values' columns in the order they are set (a name may come twice: set twice). */
  readonly valueColumns: readonly PackedValueColumn[];
  /**
   * Explanation of anomaly k: contributions [start[k], start[k + 1]) of the flat arrays;
   * has[k] = 0 when the row has none (not the same as an empty one).
   */
  readonly explanation: {
    readonly has: Uint8Array;
    readonly start: Int32Array;
    readonly feature: Int32Array; // index into `strings`
    readonly value: Float64Array;
    readonly median: Float64Array;
    readonly percentile: Float64Array;
    readonly direction: Int32Array; // index into `strings`
    readonly weight: Float64Array;
  };
  /** Finding of anomaly k; has[k] = 0 when it has none. */
  readonly finding: {
    readonly has: Uint8Array;
    readonly type: Int32Array; // index into `strings`
    readonly confidence: Float64Array;
    readonly reason: readonly string[];
    readonly technique: Int32Array; // index into `strings`, -1 for null
    readonly incident: Int32Array; // index into `strings`, -1 for null
  };
  /** Recommendation of anomaly k, an index into `strings`. */
  readonly recommendation: Int32Array;
  /** The short strings above, each once. */
  readonly strings: readonly string[];
}

export interface AnomalyRowsInput {
  readonly outPath: string;
  readonly table: FlowTable;
  /** Names of AnomalyRow.values, in order; names the table lacks are left out. */
  readonly valueNames: readonly string[];
  /** The anomalous rows, most severe first. */
  readonly rows: readonly number[];
  readonly scores: Float64Array;
  readonly severity: Float64Array;
  /** Explanations by row (a row without one has none in the job): packed (the pipeline's), or a map. */
  readonly explanations: Explanations;
  readonly flowFindings: ReadonlyMap<number, FlowFinding>;
  readonly recommendationFor: (row: number) => string;
  /** Also write the anomaly report CSV: the uploaded file the table was parsed from, and where. */
  readonly report?: { readonly sourcePath: string; readonly outPath: string };
}

class StringCodes {
  readonly list: string[] = [];
  private readonly codes = new Map<string, number>();
  code(text: string): number {
    let c = this.codes.get(text);
    if (c === undefined) {
      c = this.list.length;
      this.list.push(text);
      this.codes.set(text, c);
    }
    return c;
  }
}

function packColumn(table: FlowTable, col: Column, rows: readonly number[]): PackedValueColumn {
  const n = rows.length;
  if (col.kind === 'numeric' || col.kind === 'time') {
    const values = new Float64Array(n);
    for (let k = 0; k < n; k++) values[k] = col.values[rows[k]];
    return col.kind === 'numeric' ? { name: col.name, kind: 'number', values } : { name: col.name, kind: 'time', values };
  }
  const texts = new Array<string>(n);
  for (let k = 0; k < n; k++) texts[k] = columnValueAsText(table, col, rows[k]);
  return { name: col.name, kind: 'text', texts };
}

/** The job's data, from the analysis in memory. */
export function packAnomalyRowsJob(input: AnomalyRowsInput): AnomalyRowsJob {
  const { table, rows, explanations, flowFindings } = input;
  const n = rows.length;
  const strings = new StringCodes();
  const valueColumns = input.valueNames
    .map((name) => table.columns.find((c) => c.name === name))
    .filter((c) => c !== undefined)
    .map((c) => packColumn(table, c, rows));

  const explanation = explanationPacker(explanations, rows, strings);
  const finding = {
    has: new Uint8Array(n),
    type: new Int32Array(n),
    confidence: new Float64Array(n),
    reason: new Array<string>(n).fill(''),
    technique: new Int32Array(n).fill(-1),
    incident: new Int32Array(n).fill(-1),
  };
  const row = new Int32Array(n);
  const line = new Int32Array(n);
  const score = new Float64Array(n);
  const severity = new Float64Array(n);
  const recommendation = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const r = rows[k];
    row[k] = r;
    line[k] = table.lineNumbers[r];
    score[k] = input.scores[r];
    severity[k] = input.severity[r];
    recommendation[k] = strings.code(input.recommendationFor(r));
    explanation.add(k);
    const f = flowFindings.get(r);
    if (f !== undefined) {
      finding.has[k] = 1;
      finding.type[k] = strings.code(f.type);
      finding.confidence[k] = f.confidence;
      finding.reason[k] = f.reason;
      finding.technique[k] = f.technique === null ? -1 : strings.code(f.technique);
      finding.incident[k] = f.incidentId === null ? -1 : strings.code(f.incidentId);
    }
  }
  let report: AnomalyRowsJob['report'] = null;
  if (input.report !== undefined) {
    const starts = new Float64Array(n);
    const ends = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      starts[k] = table.rowOffsets[rows[k]];
      ends[k] = table.rowOffsets[rows[k] + 1];
    }
    report = { ...input.report, header: [...table.header], starts, ends };
  }
  return { outPath: input.outPath, report, row, line, score, severity, valueColumns, explanation: explanation.arrays, finding, recommendation, strings: strings.list };
}

/**
 * The job's explanation arrays for `rows`, filled row by row by add(k) in order: after row k's
 * recommendation and before its finding, so `strings` gets its codes in the order it always did
 * (anomalies.bin's string list depends on it).
 */
function explanationPacker(explanations: Explanations, rows: readonly number[], strings: StringCodes): { arrays: AnomalyRowsJob['explanation']; add(k: number): void } {
  const n = rows.length;
  const arrays = (total: number) => ({
    has: new Uint8Array(n),
    start: new Int32Array(n + 1),
    feature: new Int32Array(total),
    value: new Float64Array(total),
    median: new Float64Array(total),
    percentile: new Float64Array(total),
    direction: new Int32Array(total),
    weight: new Float64Array(total),
  });
  let p = 0;
  if (explanations instanceof ExplanationSet) {
    // Every explained row has one contribution per feature: copy them, with the string codes of
    // each feature and direction looked up once (made when first used, as from the objects).
    const set = explanations;
    const width = set.features.length;
    const at = set.indicesOf(rows);
    let total = 0;
    for (let k = 0; k < n; k++) if (at[k] >= 0) total += width;
    const out = arrays(total);
    const { feature, value, median, percentile, direction, weight } = out;
    // The set's rows in its own order (the pipeline's): the numbers are its arrays as they are.
    let inOrder = set.size === n;
    for (let k = 0; k < n && inOrder; k++) inOrder = at[k] === k;
    if (inOrder) {
      value.set(set.value);
      percentile.set(set.percentile);
      weight.set(set.weight);
    }
    const featureCode = new Int32Array(width).fill(-1);
    const directionCode = Int32Array.of(-1, -1); // low, high
    return {
      arrays: out,
      add(k) {
        out.start[k] = p;
        const i = at[k];
        if (i >= 0) {
          out.has[k] = 1;
          for (let q = i * width; q < (i + 1) * width; q++, p++) {
            const f = set.feature[q];
            const h = set.high[q];
            if (featureCode[f] < 0) featureCode[f] = strings.code(set.features[f]);
            if (directionCode[h] < 0) directionCode[h] = strings.code(h === 1 ? 'high' : 'low');
            feature[p] = featureCode[f];
            direction[p] = directionCode[h];
            median[p] = set.median[f];
            if (!inOrder) {
              value[p] = set.value[q];
              percentile[p] = set.percentile[q];
              weight[p] = set.weight[q];
            }
          }
        }
        out.start[k + 1] = p;
      },
    };
  }
  const found: (Explanation | undefined)[] = new Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const e = explanations.get(rows[k]);
    found[k] = e;
    if (e !== undefined) total += e.contributions.length;
  }
  const out = arrays(total);
  return {
    arrays: out,
    add(k) {
      out.start[k] = p;
      const e = found[k];
      if (e !== undefined) {
        out.has[k] = 1;
        for (const c of e.contributions) {
          out.feature[p] = strings.code(c.feature);
          out.value[p] = c.value;
          out.median[p] = c.median;
          out.percentile[p] = c.percentile;
          out.direction[p] = strings.code(c.direction);
          out.weight[p] = c.weight;
          p++;
        }
      }
      out.start[k + 1] = p;
    },
  };
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The explanation of the job's k-th anomaly (as the detector gave it), or undefined. */
function explanationOf(job: AnomalyRowsJob, k: number): Explanation | undefined {
  const { strings, explanation: ex } = job;
  if (ex.has[k] !== 1) return undefined;
  const contributions: FeatureContribution[] = [];
  for (let p = ex.start[k]; p < ex.start[k + 1]; p++) {
    contributions.push({
      feature: strings[ex.feature[p]],
      value: ex.value[p],
      median: ex.median[p],
      percentile: ex.percentile[p],
      direction: strings[ex.direction[p]] as FeatureContribution['direction'],
      weight: ex.weight[p],
    });
  }
  return { row: job.row[k], contributions };
}

/** The job's k-th AnomalyRow: as the pipeline built it from its Maps, key for key. */
export function anomalyRowOf(job: AnomalyRowsJob, k: number): AnomalyRow {
  const { strings, finding: f } = job;
  const values: Record<string, number | string | null> = {};
  for (const col of job.valueColumns) {
    if (col.kind === 'number') {
      const v = col.values[k];
      values[col.name] = Number.isFinite(v) ? v : null;
    } else {
      const text = col.kind === 'time' ? formatTimestamp(col.values[k]) : col.texts[k];
      values[col.name] = text === '' ? null : text;
    }
  }
  const contributions = explanationOf(job, k)?.contributions ?? [];
  const has = f.has[k] === 1;
  return {
    row: job.row[k],
    line: job.line[k],
    score: job.score[k],
    severity: round2(job.severity[k]),
    values,
    explanation: contributions,
    type: has ? (strings[f.type[k]] as AttackType) : 'untyped',
    confidence: has ? f.confidence[k] : 0,
    reason: has ? f.reason[k] : '',
    technique: has && f.technique[k] >= 0 ? strings[f.technique[k]] : null,
    incidentId: has && f.incident[k] >= 0 ? strings[f.incident[k]] : null,
    recommendation: strings[job.recommendation[k]],
  };
}

/** The job's first `count` rows (the summary's top anomalies). */
export function anomalyRowsOf(job: AnomalyRowsJob, count: number): AnomalyRow[] {
  return Array.from({ length: Math.min(count, job.row.length) }, (_, k) => anomalyRowOf(job, k));
}

/** Writes anomalies.bin: every row of the job (anomalies-file.ts). */
export async function writeAnomalyRowsJob(job: AnomalyRowsJob): Promise<void> {
  if (job.outPath === null) throw new Error('This job has no anomalies.bin');
  await writeAnomalyRowsFile(job.outPath, job);
}

/**
 * The job's anomaly report alone, as a report worker gets it: no anomalies.bin, no value columns
 * and no reasons (the CSV reads its values from the source and has no reasons), so none of those
 * strings is copied to the worker (~13 ms less on the main thread for 50,000 anomalies).
 */
export function reportOnlyJob(job: AnomalyRowsJob): AnomalyRowsJob {
  if (job.report === null) throw new Error('This job has no anomaly report');
  return { ...job, outPath: null, valueColumns: [], finding: { ...job.finding, reason: [] } };
}

/** Writes the job's anomaly report CSV (writers.ts; same bytes as writeAnomalyReport from the Maps). */
export async function writeAnomalyReportJob(job: AnomalyRowsJob, prepared?: PreparedReport): Promise<void> {
  const report = job.report;
  if (report === null) throw new Error('This job has no anomaly report');
  const { strings, finding: f } = job;
  const has = (k: number) => f.has[k] === 1;
  const findingCells = {
    type: (k: number) => (has(k) ? strings[f.type[k]] : 'untyped'),
    confidence: (k: number) => (has(k) ? f.confidence[k] : undefined),
    incidentId: (k: number) => (has(k) && f.incident[k] >= 0 ? strings[f.incident[k]] : ''),
    recommendation: (k: number) => strings[job.recommendation[k]],
  };
  await writePreparedReport(prepared ?? (await prepareAnomalyReportJob(job)), findingCells, report.outPath);
}

/**
 * The findings-independent part of the job's anomaly report (original records, scores and
 * explanation text): a job packed before the findings exist (no findings, no recommendations)
 * gives the same as the complete one.
 */
export function prepareAnomalyReportJob(job: AnomalyRowsJob): Promise<PreparedReport> {
  const report = job.report;
  if (report === null) throw new Error('This job has no anomaly report');
  return prepareAnomalyReport(
    report.sourcePath,
    {
      header: report.header,
      count: job.row.length,
      starts: report.starts,
      ends: report.ends,
      lines: job.line,
      score: (k) => job.score[k],
      severity: (k) => job.severity[k],
      explanation: (k) => explanationOf(job, k),
    },
  );
}

/**
 * Writes every file the job has: anomalies.bin and the anomaly report CSV, together; the report
 * from `prepared` (prepareAnomalyReportJob of a job with the same report) when given.
 */
export async function writeAnomalyFiles(job: AnomalyRowsJob, prepared?: Promise<PreparedReport>): Promise<void> {
  const writes: Promise<void>[] = [];
  if (job.outPath !== null) writes.push(writeAnomalyRowsJob(job));
  if (job.report !== null) writes.push(prepared !== undefined ? prepared.then((p) => writeAnomalyReportJob(job, p)) : writeAnomalyReportJob(job));
  await settleAll(writes);
}
