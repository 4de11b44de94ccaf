/**
 * rows.bin: an analysis's per-row results, compact, so the full scored dataset (results.csv, one
 * line per input row) can be written when it is first asked for instead of at analysis time.
 *
 * Layout (little-endian):
 *   'FSROWS01'                       8 bytes
 *   u32 header length, header JSON   { rows, header, types, incidents }, padded with spaces to 8
 *   Float64 rowOffsets[rows + 1]     byte offsets of the rows in input.csv (FlowTable.rowOffsets)
 *   Float64 scores[rows]             anomaly scores, exact
 *   Float64 severity[rows]           severities, exact (results.csv prints them with 2 decimals)
 *   Int32   incident[rows]           index into header.incidents, -1 for none
 *   Uint8   type[rows]               index into header.types
 *   Uint8   isAnomaly[rows]          1 where the detector flagged the row
 * With input.csv it gives results.csv byte for byte as writeScoredDataset would have.
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { FlowFinding } from '../findings/types.ts';
import type { FlowTable } from '../ingest/index.ts';
import { scoredRowsOf, type ScoredRows, writeScoredRows } from './writers.ts';

const MAGIC = 'FSROWS01';

interface RowsHeader {
  readonly rows: number;
  readonly header: readonly string[];
  readonly types: readonly string[];
  readonly incidents: readonly string[];
}

export interface RowsFileInput {
  readonly table: Pick<FlowTable, 'header' | 'rowCount' | 'rowOffsets'>;
  readonly scores: Float64Array;
  readonly severity: Float64Array;
  readonly isAnomaly: Uint8Array;
  readonly flowFindings?: ReadonlyMap<number, FlowFinding>;
}

/** Encodes an analysis's per-row results (about 30 bytes a row). */
export function encodeRowsFile(input: RowsFileInput): Buffer {
  const rows = scoredRowsOf({ ...input, table: input.table as FlowTable });
  const n = rows.rowCount;
  const typeCodes = new Map<string, number>();
  const incidentCodes = new Map<string, number>();
  const type = new Uint8Array(n);
  const incident = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = rows.typeOf(i);
    let code = typeCodes.get(t);
    if (code === undefined) {
      code = typeCodes.size;
      if (code > 255) throw new Error('more than 256 attack types');
      typeCodes.set(t, code);
    }
    type[i] = code;
    const inc = rows.incidentOf(i);
    if (inc === null) incident[i] = -1;
    else {
      let ic = incidentCodes.get(inc);
      if (ic === undefined) incidentCodes.set(inc, (ic = incidentCodes.size));
      incident[i] = ic;
    }
  }
  const header: RowsHeader = { rows: n, header: rows.header, types: [...typeCodes.keys()], incidents: [...incidentCodes.keys()] };
  let json = JSON.stringify(header);
  const jsonBytes = Buffer.byteLength(json);
  json += ' '.repeat((8 - ((12 + jsonBytes) % 8)) % 8);
  const headLength = 12 + Buffer.byteLength(json);
  const out = Buffer.alloc(headLength + 8 * (n + 1) + 16 * n + 4 * n + 2 * n);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(Buffer.byteLength(json), 8);
  out.write(json, 12, 'utf8');
  let p = headLength;
  const put = (a: ArrayBufferView) => {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
    p += a.byteLength;
  };
  put(rows.rowOffsets.subarray(0, n + 1));
  put(rows.scores.subarray(0, n));
  put(rows.severity.subarray(0, n));
  put(incident);
  put(type);
  put(rows.isAnomaly.subarray(0, n));
  return out;
}

/** Decodes rows.bin (copying into aligned typed arrays). */
export function decodeRowsFile(buf: Buffer): ScoredRows {
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) throw new Error('not a rows.bin file');
  const jsonLength = buf.readUInt32LE(8);
  const header = JSON.parse(buf.toString('utf8', 12, 12 + jsonLength)) as RowsHeader;
  const n = header.rows;
  let p = 12 + jsonLength;
  if (buf.length !== p + 8 * (n + 1) + 22 * n) throw new Error(`rows.bin is ${buf.length} bytes, expected ${p + 8 * (n + 1) + 22 * n}`);
  const take = <T>(Ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }, count: number): T => {
    const bytes = count * Ctor.BYTES_PER_ELEMENT;
    const copy = new Uint8Array(bytes);
    copy.set(buf.subarray(p, p + bytes));
    p += bytes;
    return new Ctor(copy.buffer);
  };
  const rowOffsets = take(Float64Array, n + 1);
  const scores = take(Float64Array, n);
  const severity = take(Float64Array, n);
  const incident = take(Int32Array, n);
  const type = take(Uint8Array, n);
  const isAnomaly = take(Uint8Array, n);
  return {
    header: header.header,
    rowCount: n,
    rowOffsets,
    scores,
    severity,
    isAnomaly,
    typeOf: (row) => header.types[type[row]],
    incidentOf: (row) => (incident[row] < 0 ? null : header.incidents[incident[row]]),
  };
}

export async function writeRowsFile(path: string, input: RowsFileInput): Promise<void> {
  await writeFile(path, encodeRowsFile(input));
}

/**
 * results.csv from input.csv and rows.bin, written atomically through `tmpPath` (give each writer
 * its own so that two processes building the same file never share one).
 */
export async function writeScoredDatasetFromRows(opts: { sourcePath: string; rowsPath: string; outPath: string; tmpPath?: string }): Promise<void> {
  const rows = decodeRowsFile(await readFile(opts.rowsPath));
  await writeScoredRows(opts.sourcePath, rows, opts.outPath, opts.tmpPath);
}
