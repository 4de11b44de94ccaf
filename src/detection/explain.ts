/**
 * Per-row explanations from the trees themselves. Along a row's path in each tree, every split
 * credits its feature with the isolation it achieved: ln(n_node / n_child) in training rows, where
 * n_child counts the training rows of the branch the row took. A row cut from 256 rows to 1 by one
 * split on feature A credits A with ln 256; splits that keep most rows together credit ~0. The leaf's
 * remaining c(n) is not attributable to a feature and is ignored. Credits are averaged over trees and
 * normalised to sum to 1 (equal weights when no split isolated the row at all).
 */
import type { PackedForest } from './kernel.ts';

/** Raw (unnormalised) mean isolation credit per feature for one float32 row; written into `out`. */
export function isolationCredits(f: PackedForest, row: ArrayLike<number>, out: Float64Array): void {
  const { roots, depth, node, threshold, gain, nTrees } = f;
  out.fill(0);
  for (let t = 0; t < nTrees; t++) {
    let g = roots[t];
    for (let d = depth[t]; d > 0; d--) {
      const next = node[4 * g + 1];
      if (next === g) break; // leaf
      const feat = node[4 * g];
      const side = row[feat] <= threshold[g] ? 0 : 1;
      out[feat] += gain[2 * g + side];
      g = node[4 * g + 1 + side];
    }
  }
  for (let c = 0; c < out.length; c++) out[c] /= nTrees;
}

/** Normalise credits in place to weights summing to 1; equal weights when all are 0. */
export function normaliseWeights(credits: Float64Array): Float64Array {
  let total = 0;
  for (let c = 0; c < credits.length; c++) total += credits[c];
  if (!(total > 0)) credits.fill(1 / credits.length);
  else for (let c = 0; c < credits.length; c++) credits[c] /= total;
  return credits;
}
