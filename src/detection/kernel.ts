/**
 * The scoring hot loop, shared by the main thread and the score workers.
 *
 * A forest is packed into flat typed arrays (struct of arrays) over all trees: for internal node i,
 * `feature[i]`, `threshold[i]`, and `child[2i]` (left, taken when x <= threshold) / `child[2i+1]`
 * (right). A child index >= 0 is another internal node; a negative one, `~k`, is leaf k, whose path
 * length `leafValue[k] = (depth + 1 + c(n_leaf)) - 1` (sklearn's exact arithmetic) is precomputed.
 * Rows are row-major Float32Array (sklearn casts X to float32), compared against float64 thresholds.
 * Buffers may be SharedArrayBuffers, so workers read them without copying.
 */
import { averagePathLength } from './math.ts';
import type { IsolationTreeArrays } from './types.ts';

export interface PackedForest {
  readonly nTrees: number;
  /** Number of columns a row must have. */
  readonly cols: number;
  readonly roots: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly child: Int32Array;
  readonly leafValue: Float64Array;
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
  let internal = 0;
  let leaves = 0;
  for (const t of trees) {
    for (let i = 0; i < t.left.length; i++) {
      if (t.left[i] < 0) leaves++;
      else internal++;
    }
  }
  const roots = sharedInt32(trees.length);
  const feature = sharedInt32(internal);
  const threshold = sharedFloat64(internal);
  const child = sharedInt32(2 * internal);
  const leafValue = sharedFloat64(leaves);
  let iBase = 0;
  let lBase = 0;
  for (let ti = 0; ti < trees.length; ti++) {
    const t = trees[ti];
    const n = t.left.length;
    const code = new Int32Array(n);
    const depth = new Int32Array(n);
    depth[0] = 1;
    let ic = 0;
    let lc = 0;
    for (let i = 0; i < n; i++) code[i] = t.left[i] < 0 ? ~(lBase + lc++) : iBase + ic++;
    for (let i = 0; i < n; i++) {
      const l = t.left[i];
      if (l >= 0) {
        depth[l] = depth[i] + 1;
        depth[t.right[i]] = depth[i] + 1;
      }
    }
    for (let i = 0; i < n; i++) {
      const c = code[i];
      if (c >= 0) {
        feature[c] = t.feature[i];
        threshold[c] = t.threshold[i];
        child[2 * c] = code[t.left[i]];
        child[2 * c + 1] = code[t.right[i]];
      } else {
        leafValue[~c] = depth[i] + averagePathLength(t.nNodeSamples[i]) - 1.0;
      }
    }
    roots[ti] = code[0];
    iBase += ic;
    lBase += lc;
  }
  return {
    nTrees: trees.length,
    cols,
    roots,
    feature,
    threshold,
    child,
    leafValue,
    denominator: trees.length * averagePathLength(maxSamples),
  };
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
  const { roots, feature, threshold, child, leafValue, nTrees } = f;
  const block = Math.max(1, chunkRows | 0);
  out.fill(0, 0, end - start);
  for (let b0 = start; b0 < end; b0 += block) {
    const b1 = Math.min(end, b0 + block);
    for (let t = 0; t < nTrees; t++) {
      const root = roots[t];
      if (root < 0) {
        const v = leafValue[~root];
        for (let r = b0; r < b1; r++) out[r - start] += v;
        continue;
      }
      for (let r = b0; r < b1; r++) {
        const base = r * cols;
        let node = root;
        do {
          node = child[2 * node + (rows[base + feature[node]] <= threshold[node] ? 0 : 1)];
        } while (node >= 0);
        out[r - start] += leafValue[~node];
      }
    }
  }
}

/** sklearn's score_samples from path sums: -2^(-sum / (nTrees c(maxSamples))), -0.5 when c = 0. */
export function sumsToScores(sums: Float64Array, denominator: number, out: Float64Array, n: number = sums.length): void {
  if (denominator === 0) {
    out.fill(-0.5, 0, n);
    return;
  }
  for (let i = 0; i < n; i++) out[i] = -(2 ** -(sums[i] / denominator));
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
  for (let b0 = start; b0 < end; b0 += block) {
    const b1 = Math.min(end, b0 + block);
    pathSums(f, rows, b0, b1, sums, block);
    const d = f.denominator;
    if (d === 0) out.fill(-0.5, b0, b1);
    else for (let r = b0; r < b1; r++) out[r] = -(2 ** -(sums[r - b0] / d));
  }
}
