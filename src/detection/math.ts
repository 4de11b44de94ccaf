/** Small numeric helpers shared by the detector, each matching scikit-learn / numpy exactly. */

/** Euler–Mascheroni constant as numpy's `np.euler_gamma`. */
export const EULER_GAMMA = 0.5772156649015329;

/**
 * c(n): average path length of an unsuccessful BST search among n points (sklearn's
 * `_average_path_length`): 0 for n <= 1, 1 for n = 2, else 2 (ln(n-1) + γ) - 2 (n-1) / n.
 */
export function averagePathLength(n: number): number {
  if (n <= 1) return 0;
  if (n === 2) return 1;
  return 2.0 * (Math.log(n - 1.0) + EULER_GAMMA) - (2.0 * (n - 1.0)) / n;
}

/** sklearn's `max_depth = ceil(log2(max(max_samples, 2)))`. */
export function maxDepthFor(maxSamples: number): number {
  return Math.ceil(Math.log2(Math.max(maxSamples, 2)));
}

/**
 * numpy's default (`linear`) quantile of already ascending-sorted values, q in [0, 1].
 * Same formula as numpy's `_lerp`, so results match bit for bit.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const virtual = q * (n - 1);
  const lo = Math.floor(virtual);
  const hi = Math.min(lo + 1, n - 1);
  const g = virtual - lo;
  const a = sorted[lo];
  const b = sorted[hi];
  const diff = b - a;
  // numpy: lerp = a + diff * g, replaced by b - diff * (1 - g) where g >= 0.5
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** numpy's `np.percentile(values, 100 q)` with the default linear method (copies and sorts). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values as ArrayLike<number>);
  sorted.sort();
  return quantileSorted(sorted, q);
}
