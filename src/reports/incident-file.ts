/**
 * incidents.bin: every flow behind each incident (summary.json keeps at most 200 rows of each),
 * with what the incident's CSV needs about it, so GET /download/<id>/incident/<incidentId> is
 * written from input.csv and this file alone, and the page's incident filter finds the incident's
 * rows in the anomaly table (anomalies.bin) without reading the rest. Binary (sections.ts): the
 * incidents' flows one after another in typed arrays, each flow's reason as UTF-8, and a header
 * listing each incident's range; no text to print or parse for ~100,000 flows.
 *
 * Analyses from before it have incidents.json, the same content as JSON, columnar and
 * dictionary-coded (read by parseIncidentsFile; both read into the same IncidentsFile):
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
import { encodeSections, Sections, writeSectionsFile } from './sections.ts';
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

const MAGIC = 'FSINCS01';

interface BinHeader {
  readonly version: typeof INCIDENTS_FILE_VERSION;
  readonly header: readonly string[];
  readonly types: readonly string[];
  /** Each incident's flows [from, to) and anomaly ranks [ranksFrom, ranksTo) in the sections. */
  readonly incidents: readonly { readonly id: string; readonly from: number; readonly to: number; readonly ranksFrom: number; readonly ranksTo: number }[];
}

/**
 * incidents.bin's bytes, in pieces (sections.ts: writeSectionsFile writes them; Buffer.concat gives
 * the file). Scores and severities are kept exact (the CSV prints them with SCORE_DIGITS and
 * SEVERITY_DIGITS).
 */
export function encodeIncidentsBin(input: IncidentsFileInput): Uint8Array[] {
  const { table, scores, severity, isAnomaly, flowFindings, anomalyRank } = input;
  let total = 0;
  for (const inc of input.incidents) total += inc.rows.length;
  const rows = new Int32Array(total);
  const starts = new Float64Array(total);
  const ends = new Float64Array(total);
  const score = new Float64Array(total);
  const sev = new Float64Array(total);
  const anomaly = new Uint8Array(total);
  const type = new Int32Array(total);
  const reason = new Array<string>(total);
  const ranks = new Int32Array(total);
  const types: string[] = [];
  const typeCodes = new Map<string, number>();
  const incidents: BinHeader['incidents'][number][] = [];
  let p = 0;
  let q = 0;
  for (const inc of input.incidents) {
    const from = p;
    const ranksFrom = q;
    for (let k = 0; k < inc.rows.length; k++, p++) {
      const r = inc.rows[k];
      const finding = flowFindings.get(r);
      const flagged = isAnomaly[r] === 1;
      rows[p] = r;
      starts[p] = table.rowOffsets[r];
      ends[p] = table.rowOffsets[r + 1];
      score[p] = scores[r];
      sev[p] = severity[r];
      anomaly[p] = flagged ? 1 : 0;
      const t = finding?.type ?? (flagged ? 'untyped' : 'normal');
      let c = typeCodes.get(t);
      if (c === undefined) {
        c = types.length;
        types.push(t);
        typeCodes.set(t, c);
      }
      type[p] = c;
      reason[p] = finding?.reason ?? '';
      if (flagged) ranks[q++] = anomalyRank(r);
    }
    ranks.subarray(ranksFrom, q).sort();
    incidents.push({ id: inc.id, from, to: p, ranksFrom, ranksTo: q });
  }
  const header: BinHeader = { version: INCIDENTS_FILE_VERSION, header: [...table.header], types, incidents };
  return encodeSections(MAGIC, { ...header }, [
    ['rows', rows],
    ['starts', starts],
    ['ends', ends],
    ['score', score],
    ['severity', sev],
    ['anomaly', anomaly],
    ['type', type],
    ['reason', reason],
    ['ranks', ranks.subarray(0, q)],
  ]);
}

/** Writes incidents.bin. */
export async function writeIncidentsBin(path: string, input: IncidentsFileInput): Promise<void> {
  await writeSectionsFile(path, encodeIncidentsBin(input));
}

/** Reads incidents.bin into the IncidentsFile its incident CSVs and filters use (throws on anything else). */
export function decodeIncidentsBin(buf: Buffer): IncidentsFile {
  const file = Sections.decode<BinHeader>(buf, MAGIC, 'incidents.bin');
  const { header } = file;
  const rows = file.i32('rows');
  const starts = file.f64('starts');
  const ends = file.f64('ends');
  const score = file.f64('score');
  const sev = file.f64('severity');
  const anomaly = file.u8('anomaly');
  const type = file.i32('type');
  const ranks = file.i32('ranks');
  const total = rows.length;
  // Reasons: each flow's own (an empty one is none), as the JSON file's dictionary indices.
  const reasons: string[] = [];
  const reasonIndex = new Array<number>(total);
  for (let p = 0; p < total; p++) {
    const text = file.text('reason', p);
    if (text === '') reasonIndex[p] = -1;
    else {
      reasonIndex[p] = reasons.length;
      reasons.push(text);
    }
  }
  const part = (a: ArrayLike<number> & { subarray(from: number, to: number): ArrayLike<number> }, from: number, to: number) => Array.from(a.subarray(from, to));
  for (const inc of header.incidents) {
    if (!(inc.from >= 0 && inc.from <= inc.to && inc.to <= total && inc.ranksFrom >= 0 && inc.ranksFrom <= inc.ranksTo && inc.ranksTo <= ranks.length)) {
      throw new Error(`incidents.bin: incident ${inc.id} is out of bounds`);
    }
  }
  return {
    version: header.version,
    header: [...header.header],
    types: [...header.types],
    reasons,
    incidents: header.incidents.map((inc) => ({
      id: inc.id,
      rows: part(rows, inc.from, inc.to),
      starts: part(starts, inc.from, inc.to),
      ends: part(ends, inc.from, inc.to),
      score: part(score, inc.from, inc.to),
      severity: part(sev, inc.from, inc.to),
      anomaly: part(anomaly, inc.from, inc.to),
      type: part(type, inc.from, inc.to),
      reason: reasonIndex.slice(inc.from, inc.to),
      anomalyRanks: part(ranks, inc.ranksFrom, inc.ranksTo),
    })),
  };
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
