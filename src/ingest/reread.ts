/**
 * Re-reading a part's values of some columns from the file, as text (for merge.ts). When the file's
 * column turned to text but a part read it as numbers or times (the text was in other parts'
 * batches), that part's values for the column are read again from the file's bytes by the refill
 * that reads back the rows before a change of kind (RowRefiller, csv.ts): only the byte ranges of
 * the part's batches, record by record, and only the fields asked for. An upload's parse
 * has the worker that parsed the part do it (parse-worker.ts): the parts are read at the same time,
 * off the main thread.
 */
import { scanFileRecords } from './chunks.ts';
import { ColumnBuilder } from './columns.ts';
import { RowRefiller } from './csv.ts';
import type { ByteDictionary } from './dictionary.ts';
import { firstRows, rawKeys } from './part.ts';

/** Part rows [firstRow, firstRow + rows) are the records in file bytes [from, to) (blank lines aside). */
export interface RowRange {
  readonly from: number;
  readonly to: number;
  readonly firstRow: number;
  readonly rows: number;
}

/** A part's column read as text: what merge.ts takes from a part that parsed it as text. */
export interface PartText {
  /** Per part row, its code in `dictionary` (-1: empty). */
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
  /** See ColumnTrace.rawKeys and firstRows. */
  readonly rawKeys: readonly (readonly [number, string])[];
  readonly firstRows: Int32Array;
}

/** What to read of a part: columns `columns` (0-based) of its `rowCount` rows, at file offsets `offsets`, in `ranges` (every row, in order). */
export interface TextRequest {
  readonly ranges: readonly RowRange[];
  readonly columns: readonly number[];
  readonly offsets: Float64Array;
  readonly rowCount: number;
}

/** Reads a part's columns as text (for merge.ts): from the file, or by the worker that parsed the part. */
export type PartTextReader = (part: number, request: TextRequest) => Promise<readonly PartText[]>;

/**
 * The columns a request names, read from the file `source` as text: values get codes in the order of
 * the part's rows. Throws when the records are not where the parse saw them (the file changed since).
 * `shared`: the codes on shared memory (posted by a worker without copying, see zeroFloat64).
 */
export async function readPartText(source: string, request: TextRequest, shared = false): Promise<PartText[]> {
  const { ranges, columns, offsets, rowCount } = request;
  // Each column a text column with every row still to read, filled as a parse refills a column
  // that turned to text (csv.ts).
  const builders = columns.map((c) => ColumnBuilder.pendingText(c + 1, rowCount, shared));
  const refill = new RowRefiller(builders, offsets);
  for (const range of ranges) {
    if (range.firstRow !== refill.row) throw new Error(`the rows to re-read are not in order (row ${range.firstRow}, expected ${refill.row})`);
    await scanFileRecords(source, range.from, range.to, refill.visit);
    const read = refill.row - range.firstRow;
    if (read !== range.rows) throw new Error(`bytes ${range.from}-${range.to} held ${read} of their ${range.rows} rows where the parse read them`);
  }
  if (refill.row !== rowCount) throw new Error(`${refill.row} rows re-read, not ${rowCount}`);
  return builders.map((b) => {
    const codes = b.codes as Int32Array;
    const dict = b.dict as ByteDictionary;
    return { codes, dictionary: dict.strings, rawKeys: rawKeys(dict), firstRows: firstRows(codes, rowCount, dict.size) };
  });
}
