/**
 * The anomaly report and the full scored dataset, as CSV. Original values are read back from the
 * uploaded file through FlowTable.rowOffsets, never kept in memory as strings for every row.
 */
import { open } from 'node:fs/promises';
import { ExplanationSet, type Explanations } from '../detection/explanation-set.ts';
import type { Explanation } from '../detection/types.ts';
import type { AttackType, FlowFinding } from '../findings/types.ts';
import {
  CsvTokenizer,
  decodeNumber,
  type DecodeResult,
  FIELD_PLAIN,
  type FlowTable,
  scanFileRecords,
  ST_OK,
} from '../ingest/index.ts';
import { appendedNames, csvCell, numberCell, SCORE_DIGITS, SEVERITY_DIGITS, writeAtomically } from './csv.ts';
import { DEFAULT_RECOMMENDATIONS, explanationSentence, topFeaturesText } from './text.ts';

export const ANOMALY_REPORT_COLUMNS = [
  'anomaly_score',
  'severity',
  'attack_type',
  'attack_confidence',
  'incident_id',
  'top_features',
  'explanation',
  'recommendation',
] as const;

export const SCORED_DATASET_COLUMNS = ['anomaly_score', 'severity', 'is_anomaly', 'attack_type', 'incident_id'] as const;

/** What the anomaly report reads from the parsed table. */
export type ReportTable = Pick<FlowTable, 'header' | 'rowOffsets' | 'lineNumbers'>;

export interface AnomalyReportOptions {
  /** The uploaded file the table was parsed from (its bytes give the original values). */
  readonly sourcePath: string;
  readonly table: ReportTable;
  readonly outPath: string;
  /** The anomalous rows, already sorted (most severe first); written in this order. */
  readonly rows: readonly number[];
  readonly scores: Float64Array;
  readonly severity: Float64Array;
  /** By row: packed (the pipeline's), or a map. */
  readonly explanations: Explanations;
  readonly flowFindings?: ReadonlyMap<number, FlowFinding>;
  /** The recommendation for a row; without it, a short default by attack type. */
  readonly recommendationFor?: (row: number) => string;
}

export interface ScoredDatasetOptions {
  readonly sourcePath: string;
  readonly table: FlowTable;
  readonly outPath: string;
  readonly scores: Float64Array;
  readonly severity: Float64Array;
  /** 1 where the detector flagged the row. */
  readonly isAnomaly: Uint8Array;
  readonly flowFindings?: ReadonlyMap<number, FlowFinding>;
}

/** Rows whose original bytes are at most this far apart are read with one read. */
const READ_GAP = 64 * 1024;
const READ_SPAN = 4 * 1024 * 1024;

/** Row i's record, escaped as CSV cells (formula-safe), from the tokenizer's last record. */
function escapedRecord(buf: Buffer, tok: CsvTokenizer): string {
  let line = '';
  for (let c = 0; c < tok.count; c++) {
    if (c > 0) line += ',';
    line += csvCell(tok.text(buf, c));
  }
  return line;
}

/**
 * End of the record at `from` (before its line break) when its bytes are already what
 * escapedRecord would make of them, else -1: printable ASCII without quotes, no field starting
 * with a space or = @ + - (a number such as -3.5 takes the slow path and comes out the same) and
 * none ending with a space. Most flow records are like that and are copied byte for byte.
 */
function verbatimEnd(buf: Uint8Array, from: number, to: number): number {
  let fieldStart = true;
  let p = from;
  for (; p < to; p++) {
    const b = buf[p];
    if (b === 10 || b === 13) break;
    if (b < 32 || b > 126 || b === 34) return -1;
    if (b === 44) {
      if (!fieldStart && buf[p - 1] === 32) return -1;
      fieldStart = true;
    } else if (fieldStart) {
      if (b === 32 || b === 61 || b === 64 || b === 43 || b === 45) return -1;
      fieldStart = false;
    }
  }
  if (!fieldStart && buf[p - 1] === 32) return -1;
  return p;
}

/**
 * Source records as escaped CSV lines (no line break), all in one buffer: record k is
 * `bytes[start[k], end[k])` (UTF-8).
 */
export interface OriginalRecords {
  readonly bytes: Buffer;
  readonly start: Float64Array;
  readonly end: Float64Array;
}

/**
 * The original text of source records as escaped CSV lines: record k is the one in bytes
 * [starts[k], ends[k]) of the source (`lines[k]` its line, for messages). Reads them in file order,
 * neighbours together, whatever order they are asked in; records that need no escaping are copied
 * as they are, the others tokenized and escaped.
 */
export async function readOriginalRecords(
  sourcePath: string,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  lines?: ArrayLike<number>,
): Promise<OriginalRecords> {
  const n = starts.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  let size = 0;
  for (let k = 0; k < n; k++) size += Math.max(0, ends[k] - starts[k]);
  let bytes = Buffer.allocUnsafe(size + 64);
  let pos = 0;
  const room = (extra: number) => {
    if (pos + extra <= bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(bytes.length * 2, pos + extra));
    bytes.copy(grown, 0, 0, pos);
    bytes = grown;
  };
  if (n === 0) return { bytes: bytes.subarray(0, 0), start, end };
  const order = Int32Array.from({ length: n }, (_, k) => k).sort((a, b) => starts[a] - starts[b] || a - b);
  const tok = new CsvTokenizer();
  const fh = await open(sourcePath, 'r');
  try {
    let i = 0;
    while (i < n) {
      const from = starts[order[i]];
      let to = ends[order[i]];
      let j = i + 1;
      while (j < n) {
        const k = order[j];
        if (starts[k] - to > READ_GAP || ends[k] - from > READ_SPAN) break;
        to = Math.max(to, ends[k]);
        j++;
      }
      const buf = Buffer.allocUnsafe(to - from);
      let filled = 0;
      while (filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, from + filled);
        if (bytesRead === 0) throw new Error(`${sourcePath} is shorter than the parsed table says: was it changed?`);
        filled += bytesRead;
      }
      for (let m = i; m < j; m++) {
        const k = order[m];
        const s = starts[k] - from;
        const e = ends[k] - from;
        start[k] = pos;
        const v = verbatimEnd(buf, s, e);
        if (v >= 0) {
          room(v - s);
          buf.copy(bytes, pos, s, v);
          pos += v - s;
        } else {
          const rec = buf.subarray(s, e);
          tok.next(rec, 0, true, lines ? lines[k] : 0);
          const text = escapedRecord(rec, tok);
          room(text.length * 3);
          pos += bytes.write(text, pos, 'utf8');
        }
        end[k] = pos;
      }
      i = j;
    }
  } finally {
    await fh.close();
  }
  return { bytes, start, end };
}

/**
 * The original text of source records as escaped CSV lines (no line break): element k is the
 * record in bytes [starts[k], ends[k]) of the source (`lines[k]` its line, for messages).
 */
export async function readOriginalLines(
  sourcePath: string,
  starts: ArrayLike<number>,
  ends: ArrayLike<number>,
  lines?: ArrayLike<number>,
): Promise<string[]> {
  const rec = await readOriginalRecords(sourcePath, starts, ends, lines);
  return Array.from({ length: starts.length }, (_, k) => rec.bytes.toString('utf8', rec.start[k], rec.end[k]));
}

/**
 * What the anomaly report says about its k-th row (k = 0 is the most severe), however the caller
 * holds it: Maps of the analysis in memory (writeAnomalyReport) or a packed job (report-job.ts).
 */
export interface AnomalyReportRows {
  readonly header: readonly string[];
  readonly count: number;
  /** Bytes [starts[k], ends[k]) of the source are row k's record; lines[k] its line (for messages). */
  readonly starts: ArrayLike<number>;
  readonly ends: ArrayLike<number>;
  readonly lines: ArrayLike<number>;
  score(k: number): number;
  severity(k: number): number;
  type(k: number): string;
  /** The attack type's confidence, or undefined when the row has no finding (an empty cell). */
  confidence(k: number): number | undefined;
  /** '' when none. */
  incidentId(k: number): string;
  explanation(k: number): Explanation | undefined;
  recommendation(k: number): string;
}

/**
 * The anomaly report: for every row in `rows` (in that order), the row's original values, then
 * anomaly_score, severity, attack_type, attack_confidence, incident_id, top_features, explanation
 * and recommendation. Written to `outPath + '.tmp'` and renamed.
 */
export async function writeAnomalyReport(opts: AnomalyReportOptions): Promise<void> {
  const { table, rows, scores, severity, explanations, flowFindings, recommendationFor } = opts;
  const n = rows.length;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const lines = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    const r = rows[k];
    starts[k] = table.rowOffsets[r];
    ends[k] = table.rowOffsets[r + 1];
    lines[k] = table.lineNumbers[r];
  }
  const typeOf = (k: number) => flowFindings?.get(rows[k])?.type ?? 'untyped';
  // A packed set's explanations: the position of every row found at once, each built when written.
  const explanationOf = explanations instanceof ExplanationSet ? explanationsAt(explanations, rows) : (k: number) => explanations.get(rows[k]);
  await writeAnomalyReportRows(opts.sourcePath, opts.outPath, {
    header: table.header,
    count: n,
    starts,
    ends,
    lines,
    score: (k) => scores[rows[k]],
    severity: (k) => severity[rows[k]],
    type: typeOf,
    confidence: (k) => flowFindings?.get(rows[k])?.confidence,
    incidentId: (k) => flowFindings?.get(rows[k])?.incidentId ?? '',
    explanation: explanationOf,
    recommendation: (k) => (recommendationFor !== undefined ? recommendationFor(rows[k]) : DEFAULT_RECOMMENDATIONS[typeOf(k) as AttackType]),
  });
}

/** The explanation of rows[k] in a packed set, by k. */
function explanationsAt(set: ExplanationSet, rows: readonly number[]): (k: number) => Explanation | undefined {
  const at = set.indicesOf(rows);
  return (k) => (at[k] < 0 ? undefined : set.at(at[k]));
}

/** What the anomaly report needs that does not depend on the findings. */
export type ReportRowsBeforeFindings = Pick<AnomalyReportRows, 'header' | 'count' | 'starts' | 'ends' | 'lines' | 'score' | 'severity' | 'explanation'>;

/**
 * The findings-independent part of an anomaly report: each row's original record and its score,
 * severity, top-features and explanation cells, made before the findings exist (the report worker
 * does it while the main thread finds the incidents).
 */
export interface PreparedReport {
  readonly columns: readonly string[];
  readonly original: OriginalRecords;
  /** ',score,severity' of row k. */
  readonly scores: readonly string[];
  /** ',top_features,explanation' of row k. */
  readonly explanations: readonly string[];
}

export async function prepareAnomalyReport(sourcePath: string, rows: ReportRowsBeforeFindings): Promise<PreparedReport> {
  const n = rows.count;
  const original = await readOriginalRecords(sourcePath, rows.starts, rows.ends, rows.lines);
  const scores = new Array<string>(n);
  const explanations = new Array<string>(n);
  for (let k = 0; k < n; k++) {
    const e = rows.explanation(k);
    scores[k] = `,${numberCell(rows.score(k), SCORE_DIGITS)},${numberCell(rows.severity(k), SEVERITY_DIGITS)}`;
    explanations[k] = `,${csvCell(e === undefined ? '' : topFeaturesText(e))},${csvCell(e === undefined ? '' : explanationSentence(e))}`;
  }
  return { columns: rows.header, original, scores, explanations };
}

/** Writes a prepared report with the finding cells of its rows: the bytes writeAnomalyReportRows writes. */
export async function writePreparedReport(
  prepared: PreparedReport,
  rows: Pick<AnomalyReportRows, 'type' | 'confidence' | 'incidentId' | 'recommendation'>,
  outPath: string,
): Promise<void> {
  const { original } = prepared;
  // Types, incidents and recommendations repeat (one per incident or type): escape each once.
  const escaped = new Map<string, string>();
  const cell = (text: string): string => {
    let c = escaped.get(text);
    if (c === undefined) escaped.set(text, (c = csvCell(text)));
    return c;
  };
  await writeAtomically(outPath, async (out) => {
    const names = appendedNames(prepared.columns, ANOMALY_REPORT_COLUMNS);
    out.text(`${[...prepared.columns.map(csvCell), ...names.map(csvCell)].join(',')}\n`);
    for (let k = 0; k < prepared.scores.length; k++) {
      const confidence = rows.confidence(k);
      out.bytes(original.bytes, original.start[k], original.end[k]);
      out.text(
        `${prepared.scores[k]},${cell(rows.type(k))},${confidence === undefined ? '' : numberCell(confidence, 2)},${cell(rows.incidentId(k))}${
          prepared.explanations[k]
        },${cell(rows.recommendation(k))}\n`,
      );
      await out.flushIfOver();
    }
  });
}

/** The anomaly report (see writeAnomalyReport) of `rows`, from the source file at `sourcePath`. */
export async function writeAnomalyReportRows(sourcePath: string, outPath: string, rows: AnomalyReportRows): Promise<void> {
  await writePreparedReport(await prepareAnomalyReport(sourcePath, rows), rows, outPath);
}

/** True when the last record can be copied as it is: no field is formula-like (a leading - or + only on a plain number). */
function recordIsSafe(buf: Buffer, tok: CsvTokenizer, res: DecodeResult): boolean {
  const starts = tok.starts;
  const ends = tok.ends;
  for (let c = 0; c < tok.count; c++) {
    const s = starts[c];
    if (s === ends[c]) continue;
    const b = buf[s];
    if (b === 61 || b === 64 || b === 9 || b === 13) return false;
    if (b === 43 || b === 45) {
      if (tok.flags[c] !== FIELD_PLAIN) return false;
      decodeNumber(buf, s, ends[c], res);
      if (res.status !== ST_OK) return false;
    }
  }
  return true;
}

/**
 * What the scored dataset needs about every row: the source's header and row byte offsets, the
 * scores, and each row's attack_type and incident_id cells. Built from the analysis in memory
 * (writeScoredDataset) or read back from rows.bin (writeScoredDatasetFromRows).
 */
export interface ScoredRows {
  readonly header: readonly string[];
  readonly rowCount: number;
  /** Byte offset of each data row in the source, and of the end of the last (length rowCount + 1). */
  readonly rowOffsets: Float64Array;
  readonly scores: Float64Array;
  readonly severity: Float64Array;
  readonly isAnomaly: Uint8Array;
  /** attack_type of a row ('normal' for rows neither flagged nor typed). */
  typeOf(row: number): string;
  /** incident_id of a row, or null. */
  incidentOf(row: number): string | null;
}

/** The ScoredRows of an analysis still in memory. */
export function scoredRowsOf(opts: Omit<ScoredDatasetOptions, 'sourcePath' | 'outPath'>): ScoredRows {
  const { table, scores, severity, isAnomaly, flowFindings } = opts;
  return {
    header: table.header,
    rowCount: table.rowCount,
    rowOffsets: table.rowOffsets,
    scores,
    severity,
    isAnomaly,
    typeOf: (row) => flowFindings?.get(row)?.type ?? (isAnomaly[row] === 1 ? 'untyped' : 'normal'),
    incidentOf: (row) => flowFindings?.get(row)?.incidentId ?? null,
  };
}

/**
 * Every row of the source in order: its original text (copied byte for byte, or re-escaped when a
 * cell could run as a spreadsheet formula), then anomaly_score, severity, is_anomaly (1/0),
 * attack_type ('normal' for rows that are neither flagged nor typed) and incident_id. Streams the
 * source in chunks: memory stays bounded whatever the row count.
 */
export async function writeScoredDataset(opts: ScoredDatasetOptions): Promise<void> {
  await writeScoredRows(opts.sourcePath, scoredRowsOf(opts), opts.outPath);
}

/** The scored dataset from a source file and its ScoredRows; `tmpPath` names the temporary file (default `<outPath>.tmp`). */
export async function writeScoredRows(sourcePath: string, rows: ScoredRows, outPath: string, tmpPath?: string): Promise<void> {
  const { scores, severity, isAnomaly, rowOffsets } = rows;
  const n = rows.rowCount;
  const res: DecodeResult = { status: ST_OK, epoch: false };
  await writeAtomically(
    outPath,
    async (out) => {
      const names = appendedNames(rows.header, SCORED_DATASET_COLUMNS);
      out.text(`${[...rows.header.map(csvCell), ...names.map(csvCell)].join(',')}\n`);
      let row = 0;
      const onRecord = (buf: Buffer, tok: CsvTokenizer, start: number): void => {
        if (row >= n || start !== rowOffsets[row] || tok.isBlank()) return;
        if (recordIsSafe(buf, tok, res)) {
          // The record's bytes up to the end of its last field (closing quote included).
          const last = tok.count - 1;
          const end = tok.ends[last] + (tok.flags[last] === FIELD_PLAIN ? 0 : 1);
          // From the first field (spaces before it are trimmed anyway), opening quote included.
          const s = tok.starts[0] - (tok.flags[0] === FIELD_PLAIN ? 0 : 1);
          out.bytes(buf, Math.min(s, end), end);
        } else {
          out.text(escapedRecord(buf, tok));
        }
        const incident = rows.incidentOf(row);
        out.text(
          `,${numberCell(scores[row], SCORE_DIGITS)},${numberCell(severity[row], SEVERITY_DIGITS)},${isAnomaly[row] === 1 ? 1 : 0},${rows.typeOf(row)},${
            incident === null ? '' : csvCell(incident)
          }\n`,
        );
        row++;
      };
      await scanFileRecords(sourcePath, rowOffsets[0], rowOffsets[n], onRecord, undefined, () => out.flushIfOver());
      if (row !== n) {
        throw new Error(`${sourcePath} no longer matches the parsed table (found ${row} of ${n} rows): was it changed?`);
      }
    },
    tmpPath,
  );
}
