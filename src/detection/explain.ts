/**
 * Per-row explanations from the trees themselves, as surprising isolation per feature.
 *
 * Along a row's path in each tree, a split on feature f at a node with n training rows credits f:
 * - when the row lies inside the node's training range [lo, hi] of f, with the isolation the split
 *   achieved beyond what it achieves for its training rows on average: ln(n / n_child) less the
 *   split's entropy, or 0 (n_child = training rows of the branch the row took). Cut off with 3 of
 *   256 rows, the row earns much; carried along with the bulk, it earns nothing;
 * - when the row lies outside that range (x > hi, or x < lo), the split would have cut it off from
 *   all n rows had it been in the training sample — exactly when the uniform threshold fell between
 *   the row and the range, with probability p = (x - hi) / (x - lo) (or (lo - x) / (hi - x)). The
 *   credit is then p · ln(n + 1) + (1 - p) · (the in-range credit), and the credits of the splits
 *   below are weighted by the probability (1 - p) that the row was not isolated yet.
 * So a row far out on one feature credits that feature with nearly a whole isolation the first time
 * the feature is split, and the splits that merely carry it along add little: with 4 features, a
 * row 50 standard deviations out on one of them gives it a weight of about 0.65-0.95. Trees without
 * ranges (scikit-learn's) use the in-range credit only. The leaf's remaining c(n) is not
 * attributable to a feature and is ignored. Credits are averaged over trees and normalised to sum
 * to 1 (equal weights when no split isolated the row at all). Deterministic: the same for one row,
 * many rows, or rows split across workers.
 */
import type { PackedForest } from './kernel.ts';

/** Mean credits of the row at rows[offset .. offset + cols) into out[o .. o + cols). */
function creditsAt(f: PackedForest, rows: ArrayLike<number>, offset: number, out: Float64Array, o: number): void {
  const { roots, depth, node, threshold, gain, lo, hi, isolate, nTrees, cols } = f;
  for (let c = 0; c < cols; c++) out[o + c] = 0;
  for (let t = 0; t < nTrees; t++) {
    let g = roots[t];
    let alive = 1; // probability the row is not isolated yet on this path
    for (let d = depth[t]; d > 0; d--) {
      const next = node[4 * g + 1];
      if (next === g) break; // leaf
      const feat = node[4 * g];
      const x = rows[offset + feat];
      const side = x <= threshold[g] ? 0 : 1;
      const a = lo[g];
      const b = hi[g];
      // NaN ranges (unknown) compare false: p = 0.
      const p = x > b ? (x - b) / (x - a) : x < a ? (a - x) / (b - x) : 0;
      out[o + feat] += alive * (p * isolate[g] + (1 - p) * gain[2 * g + side]);
      alive *= 1 - p;
      g = node[4 * g + 1 + side];
    }
  }
  for (let c = 0; c < cols; c++) out[o + c] /= nTrees;
}

/** Raw (unnormalised) mean isolation credit per feature for one float32 row; written into `out`. */
export function isolationCredits(f: PackedForest, row: ArrayLike<number>, out: Float64Array): void {
  creditsAt(f, row, 0, out, 0);
}

/**
 * Raw credits of rows [start, end) of a row-major float32 matrix (f.cols columns) into
 * out[r · cols .. (r + 1) · cols) for each row r.
 */
export function creditsRange(f: PackedForest, rows: Float32Array, start: number, end: number, out: Float64Array): void {
  const cols = f.cols;
  for (let r = start; r < end; r++) creditsAt(f, rows, r * cols, out, r * cols);
}

/** Normalise credits in place to weights summing to 1; equal weights when all are 0. */
export function normaliseWeights(credits: Float64Array): Float64Array {
  let total = 0;
  for (let c = 0; c < credits.length; c++) total += credits[c];
  if (!(total > 0)) credits.fill(1 / credits.length);
  else for (let c = 0; c < credits.length; c++) credits[c] /= total;
  return credits;
}
