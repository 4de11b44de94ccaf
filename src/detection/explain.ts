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
 *   the row and the range, with probability p = u / (u + hi - lo), u = the row's distance outside. The
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
import { wasmCreditsRange } from './wasm-kernel.ts';

/** Rows walked together, tree by tree: one tree's arrays stay in cache while the block's rows use it. */
const CREDIT_BLOCK_ROWS = 512;

/**
 * Raw (unnormalised) mean credits of rows [start, end) of a row-major matrix (f.cols columns) into
 * out[r · cols .. (r + 1) · cols) for each row r. Rows go through the trees in blocks, tree-major
 * inside a block; every row still adds its credits in tree order, so the result does not depend on
 * the blocks.
 */
export function creditsRange(f: PackedForest, rows: ArrayLike<number>, start: number, end: number, out: Float64Array): void {
  // The same walk in WebAssembly where it runs (wasm-kernel.ts: same credits, bit for bit).
  if (wasmCreditsRange(f, rows, start, end, out)) return;
  const { roots, depth, node, threshold, gain, lo, hi, isolate, nTrees, cols } = f;
  out.fill(0, start * cols, end * cols);
  for (let b0 = start; b0 < end; b0 += CREDIT_BLOCK_ROWS) {
    const b1 = Math.min(end, b0 + CREDIT_BLOCK_ROWS);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t];
      const steps = depth[t];
      for (let r = b0; r < b1; r++) {
        const o = r * cols;
        let g = root;
        let alive = 1; // probability the row is not isolated yet on this path
        for (let d = steps; d > 0; d--) {
          const k = 4 * g;
          if (node[k + 1] === g) break; // leaf
          const feat = node[k];
          const x = rows[o + feat];
          const side = (x > threshold[g]) as unknown as number; // 0/1 at run time: no branch
          const a = lo[g];
          const b = hi[g];
          // The chance the split would have cut the row off: 0 inside the range (and for unknown
          // ranges, ±∞); most splits take the cheap branch.
          if (x > b || x < a) {
            const u = x > b ? x - b : a - x;
            const p = u / (u + (b - a));
            out[o + feat] += alive * (p * isolate[g] + (1 - p) * gain[2 * g + side]);
            alive *= 1 - p;
          } else out[o + feat] += alive * gain[2 * g + side];
          g = node[k + 1 + side];
        }
      }
    }
  }
  for (let i = start * cols; i < end * cols; i++) out[i] /= nTrees;
}


/**
 * Normalise credits[start .. start + count) in place to weights summing to 1; equal weights when all
 * are 0. (A range rather than a subarray: one row's credits without a view object per row.)
 */
export function normaliseWeights(credits: Float64Array, start = 0, count = credits.length - start): Float64Array {
  const end = start + count;
  let total = 0;
  for (let c = start; c < end; c++) total += credits[c];
  if (!(total > 0)) credits.fill(1 / count, start, end);
  else for (let c = start; c < end; c++) credits[c] /= total;
  return credits;
}
