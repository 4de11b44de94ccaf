/** Growing one isolation tree exactly as scikit-learn's ExtraTreeRegressor does inside IsolationForest. */
import type { Random } from './random.ts';
import type { IsolationTreeArrays } from './types.ts';

/** sklearn treats a feature as constant in a node when max <= min + FEATURE_THRESHOLD. */
export const FEATURE_THRESHOLD = 1e-7;

/**
 * Grow a tree on `sample` rows of the row-major float32 matrix `x` (`cols` columns), using only the
 * columns in `features` (original indices). A node is a leaf at `maxDepth` (root depth 0), with
 * fewer than 2 rows, or when every feature is constant in it. Otherwise a non-constant feature is
 * picked uniformly and a threshold uniformly in [min, max) (max drawn → min); x <= threshold goes left.
 * Nodes are numbered depth-first, left before right, as sklearn's depth-first builder does.
 * For explanations, each split also records the range [min, max] of its feature over the node's
 * training rows (0 for leaves); drawing it costs nothing, the min/max pass already finds it.
 */
export function growTree(
  x: Float32Array,
  cols: number,
  sample: Int32Array,
  features: Int32Array,
  maxDepth: number,
  rng: Random,
): IsolationTreeArrays {
  const m = sample.length;
  const k = features.length;
  // Local column-major copy of the sampled rows (float32 values held exactly in float64).
  const local = new Float64Array(m * k);
  for (let j = 0; j < k; j++) {
    const f = features[j];
    const off = j * m;
    for (let i = 0; i < m; i++) local[off + i] = x[sample[i] * cols + f];
  }
  const idx = new Int32Array(m);
  for (let i = 0; i < m; i++) idx[i] = i;
  const cap = Math.max(1, 2 * m - 1);
  const left = new Int32Array(cap);
  const right = new Int32Array(cap);
  const feature = new Int32Array(cap);
  const threshold = new Float64Array(cap);
  const nNodeSamples = new Int32Array(cap);
  const splitMin = new Float64Array(cap);
  const splitMax = new Float64Array(cap);
  const perm = new Int32Array(k);
  let count = 0;

  // Explicit stack of [start, end, depth, parent, isLeft]; right pushed before left → preorder.
  const stack: number[] = [0, m, 0, -1, 0];
  while (stack.length > 0) {
    const isLeft = stack.pop()!;
    const parent = stack.pop()!;
    const depth = stack.pop()!;
    const end = stack.pop()!;
    const start = stack.pop()!;
    const node = count++;
    if (parent >= 0) {
      if (isLeft) left[parent] = node;
      else right[parent] = node;
    }
    const n = end - start;
    nNodeSamples[node] = n;
    left[node] = -1;
    right[node] = -1;
    feature[node] = -2;
    threshold[node] = -2;
    if (depth >= maxDepth || n < 2) continue;

    for (let j = 0; j < k; j++) perm[j] = j;
    let remaining = k;
    let chosen = -1;
    let lo = 0;
    let hi = 0;
    while (remaining > 0) {
      const r = rng.nextInt(remaining);
      const j = perm[r];
      perm[r] = perm[remaining - 1];
      perm[remaining - 1] = j;
      remaining--;
      const off = j * m;
      let mn = local[off + idx[start]];
      let mx = mn;
      for (let i = start + 1; i < end; i++) {
        const v = local[off + idx[i]];
        if (v < mn) mn = v;
        else if (v > mx) mx = v;
      }
      if (mx <= mn + FEATURE_THRESHOLD) continue;
      chosen = j;
      lo = mn;
      hi = mx;
      break;
    }
    if (chosen < 0) continue; // every feature constant: leaf

    let thr = (hi - lo) * rng.nextDouble() + lo;
    if (thr === hi) thr = lo;
    // Partition idx[start, end) so that rows with x <= thr come first.
    const off = chosen * m;
    let p = start;
    let q = end - 1;
    while (p <= q) {
      if (local[off + idx[p]] <= thr) p++;
      else {
        const t = idx[p];
        idx[p] = idx[q];
        idx[q] = t;
        q--;
      }
    }
    feature[node] = features[chosen];
    threshold[node] = thr;
    splitMin[node] = lo;
    splitMax[node] = hi;
    stack.push(p, end, depth + 1, node, 0); // right
    stack.push(start, p, depth + 1, node, 1); // left, popped first
  }
  return {
    left: left.slice(0, count),
    right: right.slice(0, count),
    feature: feature.slice(0, count),
    threshold: threshold.slice(0, count),
    nNodeSamples: nNodeSamples.slice(0, count),
    splitMin: splitMin.slice(0, count),
    splitMax: splitMax.slice(0, count),
  };
}
