/**
 * Re-reading a part's values of some columns from the file, as text (for merge.ts). When the file's
 * column turned to text but a part read it as numbers or times (the text was in other parts'
 * batches), that part's values for the column are read again from the file's bytes, the way
 * createCsvParser's refill reads back the rows before a change of kind (csv.ts): only the byte
 * ranges of the part's batches, record by record, and only the fields asked for. An upload's parse
 * has the worker that parsed the part do it (parse-worker.ts): the parts are read at the same time,
 * off the main thread.
 */
import { scanFileRecords } from './chunks.ts';
import { zeroInt32 } from './columns.ts';
import { ByteDictionary } from './dictionary.ts';
import { firstRows, rawKeys } from './part.ts';
import { FIELD_ESCAPED, FieldUnescaper } from './tokenizer.ts';

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
 * the part's rows. Throws when a record is not where the parse saw it (the file changed since).
 * `shared`: the codes on shared memory (posted by a worker without copying, see zeroFloat64).
 */
export async function readPartText(source: string, request: TextRequest, shared = false): Promise<PartText[]> {
  const { ranges, columns, offsets, rowCount } = request;
  const dicts = columns.map(() => new ByteDictionary());
  const codes = columns.map(() => zeroInt32(rowCount, shared));
  const unescaper = new FieldUnescaper();
  let row = 0;
  for (const range of ranges) {
    if (range.firstRow !== row) throw new Error(`the rows to re-read are not in order (row ${range.firstRow}, expected ${row})`);
    const end = range.firstRow + range.rows;
    await scanFileRecords(source, range.from, range.to, (buf, tok, start) => {
      if (tok.isBlank()) return;
      if (row >= end || start !== offsets[row]) throw new Error(`the record at byte ${start} is not the row the parse read there`);
      for (let k = 0; k < columns.length; k++) {
        const c = columns[k];
        let s = tok.starts[c];
        let e = tok.ends[c];
        let field = buf;
        if (tok.flags[c] === FIELD_ESCAPED) {
          field = unescaper.unescape(buf, s, e);
          s = 0;
          e = field.length;
        }
        // As ColumnBuilder's text values: an empty field is missing (-1).
        codes[k][row] = s === e ? -1 : dicts[k].code(field, s, e);
      }
      row++;
    });
    if (row !== end) throw new Error(`bytes ${range.from}-${range.to} held ${row - range.firstRow} rows, not ${range.rows}`);
  }
  if (row !== rowCount) throw new Error(`${row} rows re-read, not ${rowCount}`);
  return columns.map((_, k) => ({
    codes: codes[k],
    dictionary: dicts[k].strings,
    rawKeys: rawKeys(dicts[k]),
    firstRows: firstRows(codes[k], rowCount, dicts[k].size),
  }));
}
