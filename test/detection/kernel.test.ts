/**
 * The node walk of pathSums, which scores forests with trees taller than HEAP_MAX_HEIGHT (a custom
 * maxSamples above 4096): the same sums, bit for bit, as scikit-learn's arithmetic applied tree by
 * tree on the unpacked trees, whatever the row range and block size.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HEAP_MAX_HEIGHT, packForest, pathSums, scoreRange } from '../../src/detection/kernel.ts';
import { averagePathLength, maxDepthFor } from '../../src/detection/math.ts';
import { Random, sampleWithoutReplacement } from '../../src/detection/random.ts';
import { growTree } from '../../src/detection/tree.ts';
import type { IsolationTreeArrays } from '../../src/detection/types.ts';
import { edgeRows } from './helpers.ts';

const N = 6000;
const COLS = 3;
const MAX_SAMPLES = 5000; // maxDepth 13: taller than the heap-order trees go

/** Heavy-tailed rows with repeated values, NaN and ±Infinity. */
const rows = (seed: number): Float32Array => edgeRows(N, COLS, seed);

/**
 * scikit-learn's sum of path lengths for one row, written plainly over the unpacked trees: per
 * tree, (nodes on the path, root counted as 1, + c(training rows in the leaf)) - 1, added in tree
 * order. A row goes left unless x > threshold (the kernel's rule; sklearn's x <= threshold, except
 * that NaN, which preprocessing never leaves, also goes left).
 */
function referenceSum(trees: readonly IsolationTreeArrays[], x: Float32Array, row: number): number {
  let sum = 0;
  for (const t of trees) {
    let node = 0;
    let depth = 1;
    while (t.left[node] >= 0) {
      node = x[row * COLS + t.feature[node]] > t.threshold[node] ? t.right[node] : t.left[node];
      depth++;
    }
    sum += depth + averagePathLength(t.nNodeSamples[node]) - 1.0;
  }
  return sum;
}

test('when trees are taller than the heap-order limit, then pathSums walks them to scikit-learn sums bit for bit', () => {
  const x = rows(5);
  const fit = new Float32Array(x.map((v) => (Number.isFinite(v) ? v : 0)));
  const rng = new Random(11);
  const features = Int32Array.from({ length: COLS }, (_, j) => j);
  const trees = Array.from({ length: 9 }, () => growTree(fit, COLS, sampleWithoutReplacement(rng, N, MAX_SAMPLES), features, maxDepthFor(MAX_SAMPLES), rng));
  const forest = packForest(trees, COLS, MAX_SAMPLES);
  assert.equal(forest.heap, null, 'no heap-order copy: the node walk scores');
  assert.ok(Math.max(...forest.depth) > HEAP_MAX_HEIGHT, `tallest tree ${Math.max(...forest.depth)}`);

  const expected = Float64Array.from({ length: N }, (_, r) => referenceSum(trees, x, r));
  // Whole blocks of 8 rows walked together, remainders, and blocks smaller than 8.
  for (const [start, end, block] of [[0, N, 2048], [3, N - 5, 13], [0, 7, 8], [1, 2, 1], [0, N, 1]] as const) {
    const out = new Float64Array(end - start);
    pathSums(forest, x, start, end, out, block);
    assert.deepEqual(out, expected.subarray(start, end), `rows [${start}, ${end}) in blocks of ${block}`);
  }

  const scores = new Float64Array(N);
  scoreRange(forest, x, 0, N, scores);
  const denominator = trees.length * averagePathLength(MAX_SAMPLES);
  assert.deepEqual(scores, expected.map((s) => -(2 ** -(s / denominator))));
});
