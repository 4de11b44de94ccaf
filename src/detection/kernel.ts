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
import { threadId } from 'node:worker_threads';
import { averagePathLength } from './math.ts';
import type { IsolationTreeArrays } from './types.ts';
import { wasmHeapPathSums } from './wasm-kernel.ts';

export interface PackedForest {
  /**
   * Names this packing of the trees in every thread it is posted to (a posted forest is a new object
   * over the same shared arrays), so a thread can tell a forest it already holds (wasm-kernel.ts).
   */
  readonly key: string;
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
   * For explanations: `gain[2g + side]` = how much more isolation than usual taking the branch on
   * `side` (0 left, 1 right) of internal node g achieved: ln(n_node / n_child) less the split's mean
   * of that over its training rows (the split's entropy), or 0 when below it. A row taking the
   * small branch of a lopsided split earns much; a row taking the big branch earns 0.
   */
  readonly gain: Float64Array;
  /**
   * For explanations: the split feature's range [lo[g], hi[g]] over internal node g's training rows
   * ([-∞, +∞] when unknown, as for scikit-learn's trees, and at leaves), and isolate[g] = ln(n_node + 1):
   * the isolation a row achieves when a split cuts it off from all of the node's training rows.
   */
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly isolate: Float64Array;
  /** nTrees * c(maxSamples); 0 when maxSamples = 1 (sklearn then scores every row -0.5). */
  readonly denominator: number;
  /**
   * The same trees as perfect binary trees in heap order, for scoring (null when a tree is too tall,
   * see HEAP_MAX_HEIGHT): tree t of height h has 2^h - 1 split slots from `heapBase[t]`, the children
   * of slot i being 2i+1 and 2i+2, so a step needs no child load. A leaf above the bottom becomes a
   * chain of always-left slots (threshold +∞); `heapLeaf[leafBase[t] + j]` is the path length of the
   * j-th bottom slot. Scores are bit-identical to the node walk.
   */
  readonly heap: HeapForest | null;
}

export interface HeapForest {
  readonly heapBase: Int32Array;
  readonly leafBase: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly leaf: Float64Array;
}

/** Trees up to this height (2^12 slots) are also packed in heap order; 'auto' trees have height <= 8. */
export const HEAP_MAX_HEIGHT = 12;

/** Rows scored per inner block: tree-major inside a block keeps one tree and the block's rows in cache. */
export const DEFAULT_CHUNK_ROWS = 2048;

function sharedFloat64(n: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Math.max(1, n) * 8), 0, n);
}
function sharedInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(Math.max(1, n) * 4), 0, n);
}

/** Forests packed by this thread so far (for PackedForest.key). */
let packed = 0;

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
  const lo = sharedFloat64(total).fill(-Infinity);
  const hi = sharedFloat64(total).fill(Infinity);
  const isolate = sharedFloat64(total);
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
        // Isolation of each branch, ln(n / n_child), less the split's mean over its training rows.
        const il = ns > 0 && nl > 0 ? Math.log(ns / nl) : 0;
        const ir = ns > 0 && nr > 0 ? Math.log(ns / nr) : 0;
        const mean = ns > 0 ? (nl * il + nr * ir) / ns : 0;
        gain[2 * g] = Math.max(0, il - mean);
        gain[2 * g + 1] = Math.max(0, ir - mean);
        isolate[g] = Math.log(ns + 1);
        if (t.splitMin && t.splitMax) {
          lo[g] = t.splitMin[i];
          hi[g] = t.splitMax[i];
        }
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
    key: `${threadId}:${++packed}`,
    nTrees: trees.length,
    cols,
    roots,
    depth: depthOf,
    node,
    threshold,
    leafValue,
    gain,
    lo,
    hi,
    isolate,
    denominator: trees.length * averagePathLength(maxSamples),
    heap: packHeap(trees, roots, depthOf, node, threshold, leafValue),
  };
}

/** Heap-order copy of a packed forest (see PackedForest.heap); null when a tree is taller than HEAP_MAX_HEIGHT. */
function packHeap(
  trees: readonly IsolationTreeArrays[],
  roots: Int32Array,
  height: Int32Array,
  node: Int32Array,
  threshold: Float64Array,
  leafValue: Float64Array,
): HeapForest | null {
  const nTrees = trees.length;
  let slots = 0;
  let leaves = 0;
  for (let t = 0; t < nTrees; t++) {
    if (height[t] > HEAP_MAX_HEIGHT) return null;
    slots += (1 << height[t]) - 1;
    leaves += 1 << height[t];
  }
  const heapBase = sharedInt32(nTrees);
  const leafBase = sharedInt32(nTrees);
  const feature = sharedInt32(slots);
  const thr = sharedFloat64(slots);
  const leaf = sharedFloat64(leaves);
  let sb = 0;
  let lb = 0;
  const stack: number[] = [];
  for (let t = 0; t < nTrees; t++) {
    const h = height[t];
    heapBase[t] = sb;
    leafBase[t] = lb;
    const inner = (1 << h) - 1;
    // [global node, heap slot, level]; a leaf above the bottom keeps going left.
    stack.push(roots[t], 0, 0);
    while (stack.length > 0) {
      const level = stack.pop()!;
      const slot = stack.pop()!;
      const g = stack.pop()!;
      if (level === h) {
        leaf[lb + slot - inner] = leafValue[g];
        continue;
      }
      const isLeaf = node[4 * g + 1] === g;
      feature[sb + slot] = isLeaf ? 0 : node[4 * g];
      thr[sb + slot] = isLeaf ? Infinity : threshold[g];
      stack.push(isLeaf ? g : node[4 * g + 1], 2 * slot + 1, level + 1);
      if (!isLeaf) stack.push(node[4 * g + 2], 2 * slot + 2, level + 1);
    }
    sb += inner;
    lb += inner + 1;
  }
  return { heapBase, leafBase, feature, threshold: thr, leaf };
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
  if (f.heap) {
    // The same loop in WebAssembly where it runs (wasm-kernel.ts: same sums, ~1.7× faster).
    if (!wasmHeapPathSums(f, f.heap, rows, start, end, out, Math.max(1, chunkRows | 0))) heapPathSums(f, f.heap, rows, start, end, out, chunkRows);
    return;
  }
  // Trees taller than HEAP_MAX_HEIGHT (only a custom maxSamples above 4096 grows them): the node
  // walk, 8 rows in lock step. Unrolled by measurement: 200k rows, 100 trees of maxSamples 10000
  // (height 14, 6 MB of nodes), 5 interleaved rounds: 1.1 s against 3.3 s for the plain loop
  // (leafOf per row), as 8 independent walks keep loads in flight where one walk waits on each.
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

/** pathSums on the heap-order trees: the same loop with child = 2·slot + 1 + (x > threshold). */
function heapPathSums(
  f: PackedForest,
  hf: HeapForest,
  rows: Float32Array,
  start: number,
  end: number,
  out: Float64Array,
  chunkRows: number,
): void {
  const cols = f.cols;
  const { depth, nTrees } = f;
  const { heapBase, leafBase, feature, threshold, leaf } = hf;
  const block = Math.max(1, chunkRows | 0);
  out.fill(0, 0, end - start);
  const c1 = cols, c2 = 2 * cols, c3 = 3 * cols, c4 = 4 * cols, c5 = 5 * cols, c6 = 6 * cols, c7 = 7 * cols;
  for (let b0 = start; b0 < end; b0 += block) {
    const b1 = Math.min(end, b0 + block);
    for (let t = 0; t < nTrees; t++) {
      const steps = depth[t];
      const fb = heapBase[t];
      const lb = leafBase[t] - ((1 << steps) - 1); // leaf[lb + slot] for a bottom slot
      let r = b0;
      for (; r + 8 <= b1; r += 8) {
        const a = r * cols;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        for (let d = 0; d < steps; d++) {
          s0 = 2 * s0 + 1 + ((rows[a + feature[fb + s0]] > threshold[fb + s0]) as unknown as number);
          s1 = 2 * s1 + 1 + ((rows[a + c1 + feature[fb + s1]] > threshold[fb + s1]) as unknown as number);
          s2 = 2 * s2 + 1 + ((rows[a + c2 + feature[fb + s2]] > threshold[fb + s2]) as unknown as number);
          s3 = 2 * s3 + 1 + ((rows[a + c3 + feature[fb + s3]] > threshold[fb + s3]) as unknown as number);
          s4 = 2 * s4 + 1 + ((rows[a + c4 + feature[fb + s4]] > threshold[fb + s4]) as unknown as number);
          s5 = 2 * s5 + 1 + ((rows[a + c5 + feature[fb + s5]] > threshold[fb + s5]) as unknown as number);
          s6 = 2 * s6 + 1 + ((rows[a + c6 + feature[fb + s6]] > threshold[fb + s6]) as unknown as number);
          s7 = 2 * s7 + 1 + ((rows[a + c7 + feature[fb + s7]] > threshold[fb + s7]) as unknown as number);
        }
        const o = r - start;
        out[o] += leaf[lb + s0];
        out[o + 1] += leaf[lb + s1];
        out[o + 2] += leaf[lb + s2];
        out[o + 3] += leaf[lb + s3];
        out[o + 4] += leaf[lb + s4];
        out[o + 5] += leaf[lb + s5];
        out[o + 6] += leaf[lb + s6];
        out[o + 7] += leaf[lb + s7];
      }
      for (; r < b1; r++) {
        const a = r * cols;
        let sl = 0;
        for (let d = 0; d < steps; d++) sl = 2 * sl + 1 + ((rows[a + feature[fb + sl]] > threshold[fb + sl]) as unknown as number);
        out[r - start] += leaf[lb + sl];
      }
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
