/**
 * The scoring hot loop, shared by the main thread and the score workers.
 *
 * A forest is packed into flat typed arrays (struct of arrays) over all trees, every node (internal
 * and leaf) with a global index g: `node[4g] = feature, node[4g+1] = left, node[4g+2] = right`
 * (left taken when x <= threshold), `threshold[g]`. A leaf is made a fixed point — threshold +∞ and
 * both children itself — so a row reaches its leaf after exactly `depth[t]` steps in tree t (the
 * tree's height) with no test for "is leaf". That lets 8 rows walk a tree in lock step, which keeps
 * the CPU busy instead of waiting on one chain of dependent loads. `leafValue[g]` is the leaf's path
 * length with sklearn's exact arithmetic: (depth + 1 + c(n_leaf)) - 1, summed over trees in order.
 * Rows are row-major Float32Array (sklearn casts X to float32), compared against float64 thresholds.
 * Buffers are SharedArrayBuffers, so workers read them without copying.
 */
import { averagePathLength } from './math.ts';
import type { IsolationTreeArrays } from './types.ts';

export interface PackedForest {
  readonly nTrees: number;
  /** Number of columns a row must have. */
  readonly cols: number;
  /** Global index of each tree's root. */
  readonly roots: Int32Array;
  /** Height of each tree (edges from root to its deepest leaf). */
  readonly depth: Int32Array;
  /** Stride 4 per node: feature, left, right, (unused). */
  readonly node: Int32Array;
  readonly threshold: Float64Array;
  /** Path length of a row ending in leaf g; 0 for internal nodes. */
  readonly leafValue: Float64Array;
  /**
   * For explanations: `gain[2g + side]` = ln(n_node / n_child) in training rows for internal node g
   * and the child on `side` (0 left, 1 right): how much isolation taking that branch achieved.
   */
  readonly gain: Float64Array;
  /** nTrees * c(maxSamples); 0 when maxSamples = 1 (sklearn then scores every row -0.5). */
  readonly denominator: number;
}

/** Rows scored per inner block: tree-major inside a block keeps one tree and the block's rows in cache. */
export const DEFAULT_CHUNK_ROWS = 2048;

function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8), 0, n);
}
function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
}

/** Pack trees (feature indices already in original columns) into one shared flat forest. */
export function packForest(trees: readonly IsolationTreeArrays[], cols: number, maxSamples: number): PackedForest {
  let total = 0;
  for (const t of trees) total += t.left.length;
  const roots = sharedInt32(trees.length);
  const depthOf = sharedInt32(trees.length);
  const node = sharedInt32(4 * total);
  const threshold = sharedFloat64(total);
  const leafValue = sharedFloat64(total);
  const gain = sharedFloat64(2 * total);
  let base = 0;
  for (let ti = 0; ti < trees.length; ti++) {
    const t = trees[ti];
    const n = t.left.length;
    const depth = new Int32Array(n);
    depth[0] = 1; // sklearn's compute_node_depths: the root has depth 1
    let height = 1;
    for (let i = 0; i < n; i++) {
      const l = t.left[i];
      if (l >= 0) {
        depth[l] = depth[i] + 1;
        depth[t.right[i]] = depth[i] + 1;
      } else if (depth[i] > height) height = depth[i];
    }
    for (let i = 0; i < n; i++) {
      const g = base + i;
      const l = t.left[i];
      if (l >= 0) {
        const r = t.right[i];
        node[4 * g] = t.feature[i];
        node[4 * g + 1] = base + l;
        node[4 * g + 2] = base + r;
        threshold[g] = t.threshold[i];
        const ns = t.nNodeSamples[i];
        const nl = t.nNodeSamples[l];
        const nr = t.nNodeSamples[r];
        gain[2 * g] = ns > 0 && nl > 0 ? Math.log(ns / nl) : 0;
        gain[2 * g + 1] = ns > 0 && nr > 0 ? Math.log(ns / nr) : 0;
      } else {
        node[4 * g] = 0;
        node[4 * g + 1] = g;
        node[4 * g + 2] = g;
        threshold[g] = Infinity;
        leafValue[g] = depth[i] + averagePathLength(t.nNodeSamples[i]) - 1.0;
      }
    }
    roots[ti] = base;
    depthOf[ti] = height - 1;
    base += n;
  }
  return {
    nTrees: trees.length,
    cols,
    roots,
    depth: depthOf,
    node,
    threshold,
    leafValue,
    gain,
    denominator: trees.length * averagePathLength(maxSamples),
  };
}

/** Leaf reached by one row (starting at `offset` in `rows`) in the tree rooted at `root` of height `steps`. */
function leafOf(node: Int32Array, threshold: Float64Array, rows: Float32Array, offset: number, root: number, steps: number): number {
  let g = root;
  for (let d = 0; d < steps; d++) g = node[4 * g + 1 + ((rows[offset + node[4 * g]] > threshold[g]) as unknown as number)];
  return g;
}

/**
 * Sum of path lengths over trees, in tree order (as sklearn accumulates), for rows [start, end),
 * written to out[0 .. end-start). Processed in blocks of `chunkRows` rows, tree-major in a block;
 * the result does not depend on the block size.
 */
export function pathSums(
  f: PackedForest,
  rows: Float32Array,
  start: number,
  end: number,
  out: Float64Array,
  chunkRows: number = DEFAULT_CHUNK_ROWS,
): void {
  const cols = f.cols;
  const { roots, depth, node, threshold, leafValue, nTrees } = f;
  const block = Math.max(1, chunkRows | 0);
  out.fill(0, 0, end - start);
  const c1 = cols, c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols, c5 = 5 * cols, c6 = 6 * cols, c7 = 7 * cols;
  for (let b0 = start; b0 < end; b0 += block) {
    const b1 = Math.min(end, b0 + block);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t];
      const steps = depth[t];
      let r = b0;
      for (; r + 8 <= b1; r += 8) {
        const a = r * cols;
        let g0 = root, g1 = root, g2 = root, g3 = root, g4 = root, g5 = root, g6 = root, g7 = root;
        for (let d = 0; d < steps; d++) {
          // `(x > thr) as number` is 0/1 at run time (a boolean used as an index offset): no branch.
          g0 = node[4 * g0 + 1 + ((rows[a + node[4 * g0]] > threshold[g0]) as unknown as number)];
          g1 = node[4 * g1 + 1 + ((rows[a + c1 + node[4 * g1]] > threshold[g1]) as unknown as number)];
          g2 = node[4 * g2 + 1 + ((rows[a + c2 + node[4 * g2]] > threshold[g2]) as unknown as number)];
          g3 = node[4 * g3 + 1 + ((rows[a + c3 + node[4 * g3]] > threshold[g3]) as unknown as number)];
          g4 = node[4 * g4 + 1 + ((rows[a + c4 + node[4 * g4]] > threshold[g4]) as unknown as number)];
          g5 = node[4 * g5 + 1 + ((rows[a + c5 + node[4 * g5]] > threshold[g5]) as unknown as number)];
          g6 = node[4 * g6 + 1 + ((rows[a + c6 + node[4 * g6]] > threshold[g6]) as unknown as number)];
          g7 = node[4 * g7 + 1 + ((rows[a + c7 + node[4 * g7]] > threshold[g7]) as unknown as number)];
        }
        const o = r - start;
        out[o] += leafValue[g0];
        out[o + 1] += leafValue[g1];
        out[o + 2] += leafValue[g2];
        out[o + 3] += leafValue[g3];
        out[o + 4] += leafValue[g4];
        out[o + 5] += leafValue[g5];
        out[o + 6] += leafValue[g6];
        out[o + 7] += leafValue[g7];
      }
      for (; r < b1; r++) out[r - start] += leafValue[leafOf(node, threshold, rows, r * cols, root, steps)];
    }
  }
}

/** Scores (sklearn's score_samples) of rows [start, end) into out[start .. end). */
export function scoreRange(
  f: PackedForest,
  rows: Float32Array,
  start: number,
  end: number,
  out: Float64Array,
  chunkRows: number = DEFAULT_CHUNK_ROWS,
): void {
  const block = Math.max(1, Math.min(chunkRows | 0, end - start));
  const sums = new Float64Array(block);
  const d = f.denominator;
  for (let b0 = start; b0 < end; b0 += block) {
    const b1 = Math.min(end, b0 + block);
    pathSums(f, rows, b0, b1, sums, block);
    // sklearn: -(2 ** -(depths / (n_estimators * c(max_samples)))), and -0.5 when that denominator is 0
    if (d === 0) out.fill(-0.5, b0, b1);
    else for (let r = b0; r < b1; r++) out[r] = -(2 ** -(sums[r - b0] / d));
  }
}
