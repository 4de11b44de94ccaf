/**
 * incidents.json: every flow behind each incident (summary.json keeps at most 200 rows of each),
 * with what the incident's CSV needs about it, so GET /download/<id>/incident/<incidentId> is
 * written from input.csv and this file alone, and the page's incident filter finds the incident's
 * rows in the anomaly table (anomalies.bin) without reading the rest. Columnar and dictionary-coded:
 *
 *   { version: 1, header, types, reasons,
 *     incidents: [{ id, rows, starts, ends, score, severity, anomaly, type, reason, anomalyRanks }] }
 *
 * Per incident, index k of every array is its k-th flow, most severe first: `starts`/`ends` the
 * flow's bytes in input.csv, `score` (6 decimals) and `severity` (2 decimals) as the CSVs print
 * them, `anomaly` 1 where the detector flagged it, `type` an index into `types`, `reason` an index
 * into `reasons` (-1: none). `anomalyRanks`: positions in anomalies.bin of the flagged flows,
 * ascending (the anomaly table's order).
 */
import { z } from 'zod';
import type { FlowFinding } from '../findings/types.ts';
import type { FlowTable } from '../ingest/index.ts';
import { appendedNames, csvCell, numberCell, SCORE_DIGITS, SEVERITY_DIGITS } from './csv.ts';
import { readOriginalLines } from './writers.ts';

export const INCIDENTS_FILE_VERSION = 1;

export const INCIDENT_REPORT_COLUMNS = ['anomaly_score', 'severity', 'is_anomaly', 'attack_type', 'incident_id', 'reason'] as const;

/** Rows read from input.csv per step of an incident report (memory stays bounded). */
const REPORT_BATCH = 16_384;

const ints = z.array(z.number().int());
const nums = z.array(z.number());
const entrySchema = z
  .object({
    id: z.string(),
    rows: ints,
    starts: nums,
    ends: nums,
    score: nums,
    severity: nums,
    anomaly: ints,
    type: ints,
    reason: ints,
    anomalyRanks: ints,
  })
  .refine((e) => [e.starts, e.ends, e.score, e.severity, e.anomaly, e.type, e.reason].every((a) => a.length === e.rows.length), 'arrays of one incident differ in length');
const fileSchema = z.object({
  version: z.literal(INCIDENTS_FILE_VERSION),
  header: z.array(z.string()),
  types: z.array(z.string()),
  reasons: z.array(z.string()),
  incidents: z.array(entrySchema),
});

export type IncidentFlowsEntry = z.infer<typeof entrySchema>;
export type IncidentsFile = z.infer<typeof fileSchema>;

export interface IncidentsFileInput {
  readonly table: Pick<FlowTable, 'header' | 'rowOffsets'>;
  /** Each incident's id and every row behind it, most severe first. */
  readonly incidents: readonly { readonly id: string; readonly rows: ArrayLike<number> }[];
  readonly scores: Float64Array;
  readonly severity: Float64Array;
  readonly isAnomaly: Uint8Array;
  readonly flowFindings: ReadonlyMap<number, FlowFinding>;
  /** Position of a flagged row in anomalies.bin. */
  readonly anomalyRank: (row: number) => number;
}

const fixed = (v: number, digits: number): number => (Number.isFinite(v) ? Number(v.toFixed(digits)) : 0);

/** incidents.json's text. */
export function encodeIncidentsFile(input: IncidentsFileInput): string {
  const { table, scores, severity, isAnomaly, flowFindings, anomalyRank } = input;
  const types: string[] = [];
  const typeCodes = new Map<string, number>();
  const reasons: string[] = [];
  const reasonCodes = new Map<string, number>();
  const code = (map: Map<string, number>, list: string[], text: string): number => {
    let c = map.get(text);
    if (c === undefined) {
      c = list.length;
      list.push(text);
      map.set(text, c);
    }
    return c;
  };
  const incidents: IncidentFlowsEntry[] = input.incidents.map(({ id, rows }) => {
    const n = rows.length;
    const e = {
      id,
      rows: new Array<number>(n),
      starts: new Array<number>(n),
      ends: new Array<number>(n),
      score: new Array<number>(n),
      severity: new Array<number>(n),
      anomaly: new Array<number>(n),
      type: new Array<number>(n),
      reason: new Array<number>(n),
      anomalyRanks: [] as number[],
    };
    for (let k = 0; k < n; k++) {
      const r = rows[k];
      const finding = flowFindings.get(r);
      const flagged = isAnomaly[r] === 1;
      e.rows[k] = r;
      e.starts[k] = table.rowOffsets[r];
      e.ends[k] = table.rowOffsets[r + 1];
      e.score[k] = fixed(scores[r], SCORE_DIGITS);
      e.severity[k] = fixed(severity[r], SEVERITY_DIGITS);
      e.anomaly[k] = flagged ? 1 : 0;
      e.type[k] = code(typeCodes, types, finding?.type ?? (flagged ? 'untyped' : 'normal'));
      e.reason[k] = finding?.reason ? code(reasonCodes, reasons, finding.reason) : -1;
      if (flagged) e.anomalyRanks.push(anomalyRank(r));
    }
    e.anomalyRanks.sort((a, b) => a - b);
    return e;
  });
  const file: IncidentsFile = { version: INCIDENTS_FILE_VERSION, header: [...table.header], types, reasons, incidents };
  return JSON.stringify(file);
}

/** Parses and checks incidents.json (throws on anything else). */
export function parseIncidentsFile(text: string): IncidentsFile {
  return fileSchema.parse(JSON.parse(text));
}

/** The incident CSV's header line (the source's columns, then INCIDENT_REPORT_COLUMNS, renamed when taken). */
export function incidentReportHeader(file: IncidentsFile): string {
  const names = appendedNames(file.header, INCIDENT_REPORT_COLUMNS);
  return `${[...file.header, ...names].map(csvCell).join(',')}\n`;
}

/**
 * The incident's CSV in pieces: the header, then every flow behind it, most severe first, as its
 * original values from `sourcePath` (input.csv; formula-safe) followed by anomaly_score, severity,
 * is_anomaly (1/0), attack_type, incident_id and reason. Reads the source a batch at a time.
 */
export async function* incidentReportChunks(sourcePath: string, file: IncidentsFile, entry: IncidentFlowsEntry): AsyncGenerator<string> {
  yield incidentReportHeader(file);
  const id = csvCell(entry.id);
  const types = file.types.map(csvCell);
  const reasons = file.reasons.map(csvCell);
  for (let from = 0; from < entry.rows.length; from += REPORT_BATCH) {
    const to = Math.min(entry.rows.length, from + REPORT_BATCH);
    const lines = await readOriginalLines(sourcePath, entry.starts.slice(from, to), entry.ends.slice(from, to));
    let text = '';
    for (let k = from; k < to; k++) {
      const reason = entry.reason[k];
      text += `${lines[k - from]},${numberCell(entry.score[k], SCORE_DIGITS)},${numberCell(entry.severity[k], SEVERITY_DIGITS)},${entry.anomaly[k] === 1 ? 1 : 0},${
        types[entry.type[k]] ?? ''
      },${id},${reason >= 0 ? (reasons[reason] ?? '') : ''}\n`;
    }
    yield text;
  }
}
