/** Small numeric helpers shared by the detector, each matching scikit-learn / numpy exactly. */
import { selectRanks } from '../lib/select.ts';

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
  return lerp(sorted[lo], sorted[hi], virtual - lo);
}

/** numpy's `_lerp`: a + (b - a) g, replaced by b - (b - a)(1 - g) where g >= 0.5. */
function lerp(a: number, b: number, g: number): number {
  const diff = b - a;
  return g >= 0.5 ? b - diff * (1 - g) : a + diff * g;
}

/** What one selection gives: the linear quantiles at `qs` and the values at `ranks`. */
export interface Selected {
  readonly quantiles: number[];
  readonly atRanks: number[];
}

/**
 * numpy's linear quantiles at each of `qs` and the order statistics at `ranks` (0 = min) of unsorted
 * values, in one selection (src/lib/select.ts) of only the ranks they read: equal to quantileSorted
 * and indexing on the sorted values, bit for bit, in O(n log k) instead of a sort. `values` is not
 * modified and must not hold NaN; a q outside [0, 1] gives NaN, as quantileSorted does.
 */
export function selectQuantiles(values: Float64Array, qs: readonly number[], ranks: readonly number[] = []): Selected {
  const n = values.length;
  const read: number[] = [...ranks];
  const slot: number[] = []; // per q: where its two ranks are in `read`, or -1
  for (const q of qs) {
    const lo = Math.floor(q * (n - 1));
    if (lo >= 0 && lo <= n - 1) {
      slot.push(read.length);
      read.push(lo, Math.min(lo + 1, n - 1));
    } else slot.push(-1); // n = 0, NaN, or q outside [0, 1]
  }
  const at = selectRanks(values, read);
  const quantiles = qs.map((q, i) => {
    if (slot[i] < 0) return NaN;
    const virtual = q * (n - 1);
    return lerp(at[slot[i]], at[slot[i] + 1], virtual - Math.floor(virtual));
  });
  return { quantiles, atRanks: Array.from(at.subarray(0, ranks.length)) };
}

/** numpy's `np.percentile(values, 100 q)` with the default linear method (copies and sorts). */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values as ArrayLike<number>);
  sorted.sort();
  return quantileSorted(sorted, q);
}
