/**
 * Exact duplicate-row folding before scoring. A row's score depends only on its float32 values, so
 * identical rows are scored once and the result is copied back: flow data repeats a lot (the KDD
 * http set has 221,900 distinct rows out of 567,498), and the scores stay bit-identical.
 */

export interface FoldedRows {
  /** The distinct rows, in first-seen order, row-major float32 (shared when asked). */
  readonly unique: Float32Array;
  readonly uniqueCount: number;
  /** For each input row, the index of its distinct row. */
  readonly index: Int32Array;
}

/** Rows examined before deciding whether folding pays. */
const PROBE_ROWS = 65_536;
/** Folding is abandoned when more than this fraction of the probed rows is distinct. */
const MAX_DISTINCT_FRACTION = 0.85;

/**
 * Fold duplicate rows (compared bit for bit). Returns null when it would not pay: fewer than
 * `minRows` rows, or the first 65,536 rows are more than 85 % distinct. That probe has its own small
 * table, so turning folding down (most flow data) costs a few ms rather than a table for every row.
 */
export function foldDuplicates(rows: Float32Array, n: number, cols: number, shared: boolean, minRows = 20_000): FoldedRows | null {
  if (n < minRows || cols < 1) return null;
  const bits = new Int32Array(rows.buffer, rows.byteOffset, n * cols);
  if (n > PROBE_ROWS && distinctRows(bits, PROBE_ROWS, cols, new Int32Array(PROBE_ROWS), new Int32Array(PROBE_ROWS)) > MAX_DISTINCT_FRACTION * PROBE_ROWS) {
    return null;
  }
  const index = new Int32Array(n);
  const firstRow = new Int32Array(n);
  const count = distinctRows(bits, n, cols, index, firstRow);
  if (count > MAX_DISTINCT_FRACTION * n) return null;
  const unique = shared
    ? new Float32Array(new SharedArrayBuffer(Math.max(1, count * cols) * 4), 0, count * cols)
    : new Float32Array(count * cols);
  for (let u = 0; u < count; u++) {
    const src = firstRow[u] * cols;
    for (let c = 0; c < cols; c++) unique[u * cols + c] = rows[src + c];
  }
  return { unique, uniqueCount: count, index };
}

/**
 * Number the distinct rows among the first m of `bits` (a row = `cols` words) in first-seen order:
 * index[i] = number of row i's first copy, firstRow[u] = first row of number u. Returns the count.
 */
function distinctRows(bits: Int32Array, m: number, cols: number, index: Int32Array, firstRow: Int32Array): number {
  let size = 1;
  while (size < 2 * m) size <<= 1;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1); // holds a representative input row
  let count = 0;
  for (let i = 0; i < m; i++) {
    const a = i * cols;
    let h = 0x811c9dc5;
    for (let c = 0; c < cols; c++) h = Math.imul(h ^ bits[a + c], 0x01000193) ^ (h >>> 15);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    let slot = (h ^ (h >>> 16)) & mask;
    for (;;) {
      const rep = table[slot];
      if (rep < 0) {
        table[slot] = i;
        index[i] = count;
        firstRow[count++] = i;
        break;
      }
      const b = rep * cols;
      let same = true;
      for (let c = 0; c < cols; c++) {
        if (bits[a + c] !== bits[b + c]) {
          same = false;
          break;
        }
      }
      if (same) {
        index[i] = index[rep];
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return count;
}

/** Expand scores of the distinct rows back to every input row. */
export function unfold(uniqueScores: Float64Array, index: Int32Array, out: Float64Array): Float64Array {
  for (let i = 0; i < index.length; i++) out[i] = uniqueScores[index[i]];
  return out;
}
