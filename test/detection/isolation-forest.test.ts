import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { IsolationForest, InputError, NotFittedError } from '../../src/detection/isolation-forest.ts';
import { closeScorePool } from '../../src/detection/pool.ts';
import { scoreRange } from '../../src/detection/kernel.ts';
import { averagePathLength } from '../../src/detection/math.ts';
import { gaussianMatrix } from './helpers.ts';

after(() => closeScorePool());

const X = gaussianMatrix(2000, 4, 11);

test('same seed and data give the same model bit for bit; another seed differs', () => {
  const a = new IsolationForest({ randomState: 5, nEstimators: 30 }).fit(X);
  const b = new IsolationForest({ randomState: 5, nEstimators: 30 }).fit(X);
  const c = new IsolationForest({ randomState: 6, nEstimators: 30 }).fit(X);
  assert.deepEqual(a.toJSON(), b.toJSON());
  assert.deepEqual(a.scoreSamples(X), b.scoreSamples(X));
  assert.notDeepEqual(a.toJSON().trees, c.toJSON().trees);
});

test('trees follow sklearn rules: depth limit, n_node_samples, children split the parent', () => {
  const f = new IsolationForest({ randomState: 1, nEstimators: 10 }).fit(X);
  assert.equal(f.maxSamples, 256);
  for (const t of f.trees) {
    assert.equal(t.nNodeSamples[0], 256);
    const depth = new Int32Array(t.left.length);
    for (let i = 0; i < t.left.length; i++) {
      if (t.left[i] < 0) {
        assert.equal(t.right[i], -1);
        assert.equal(t.feature[i], -2);
        assert.ok(depth[i] <= 8);
        continue;
      }
      depth[t.left[i]] = depth[i] + 1;
      depth[t.right[i]] = depth[i] + 1;
      assert.ok(depth[i] < 8);
      assert.equal(t.nNodeSamples[t.left[i]] + t.nNodeSamples[t.right[i]], t.nNodeSamples[i]);
      assert.ok(t.nNodeSamples[t.left[i]] >= 1 && t.nNodeSamples[t.right[i]] >= 1);
    }
  }
});

test('a node with rows equal in every feature is a leaf; all-constant data gives single-leaf trees', () => {
  const data = new Float64Array(300 * 2).fill(3);
  const f = new IsolationForest({ nEstimators: 5 }).fit({ data, rows: 300, cols: 2 });
  for (const t of f.trees) assert.equal(t.left.length, 1);
  // path = 0 edges + c(256) for every tree → score = -2^-1
  const s = f.scoreSamples({ data: new Float64Array([3, 3, 100, -100]), rows: 2, cols: 2 });
  assert.deepEqual(Array.from(s), [-0.5, -0.5]);
});

test('scores: outliers score lower; decision = score - offset; predict; fitPredict', () => {
  const data = Float64Array.from(X.data);
  data.set([8, 8, 8, 8], 0); // row 0 far away
  const m = { data, rows: X.rows, cols: X.cols };
  const f = new IsolationForest({ randomState: 3, contamination: 0.05 }).fit(m);
  const s = f.scoreSamples(m);
  const d = f.decisionFunction(m);
  const p = f.predict(m);
  let below = 0;
  for (let i = 0; i < s.length; i++) {
    assert.equal(d[i], s[i] - f.offset);
    assert.equal(p[i], d[i] < 0 ? -1 : 1);
    if (s[i] < s[0]) below++;
  }
  assert.equal(below, 0, 'the far row has the lowest score');
  assert.equal(p[0], -1);
  const anomalies = Array.from(p).filter((v) => v === -1).length;
  assert.ok(anomalies >= 90 && anomalies <= 110, `about 5% flagged, got ${anomalies}`);
  assert.deepEqual(new IsolationForest({ randomState: 3, contamination: 0.05 }).fitPredict(m), p);
});

test('scoring in tiny chunks equals scoring in large ones', () => {
  const f = new IsolationForest({ randomState: 2 }).fit(X);
  const big = f.scoreSamples(X, { chunkRows: 100_000 });
  for (const chunk of [1, 3, 7, 64]) assert.deepEqual(f.scoreSamples(X, { chunkRows: chunk }), big);
  const direct = new Float64Array(X.rows);
  scoreRange(f.packed, Float32Array.from(X.data), 0, X.rows, direct, 5);
  assert.deepEqual(direct, big);
});

test('parallel (2 workers), async chunked and serial scoring are identical; duplicates folded exactly', async () => {
  const base = gaussianMatrix(30_000, 3, 4);
  // Half of the rows repeat earlier ones so duplicate folding engages.
  const data = Float64Array.from(base.data);
  for (let r = 15_000; r < 30_000; r++) for (let c = 0; c < 3; c++) data[r * 3 + c] = data[(r % 997) * 3 + c];
  const m = { data, rows: 30_000, cols: 3 };
  const f = new IsolationForest({ randomState: 9 }).fit(m);
  const serial = f.scoreSamples(m, { foldDuplicates: false });
  assert.deepEqual(f.scoreSamples(m), serial);
  assert.deepEqual(await f.scoreSamplesAsync(m, { workers: 2 }), serial);
  assert.deepEqual(await f.scoreSamplesAsync(m, { workers: 2, foldDuplicates: false, chunkRows: 33 }), serial);
  assert.deepEqual(await f.scoreSamplesAsync(m, { workers: 1 }), serial);
  assert.deepEqual(await f.scoreSamplesAsync(base, { workers: 2 }), f.scoreSamples(base));
});

test('round trip through JSON gives identical scores; fromJSON rejects bad input', () => {
  const f = new IsolationForest({ randomState: 4, contamination: 0.1, maxFeatures: { count: 2 }, maxSamples: { count: 100 } }).fit(X);
  const json = JSON.parse(JSON.stringify(f.toJSON()));
  const g = IsolationForest.fromJSON(json);
  assert.deepEqual(g.scoreSamples(X), f.scoreSamples(X));
  assert.equal(g.offset, f.offset);
  assert.deepEqual(g.predict(X), f.predict(X));
  assert.throws(() => IsolationForest.fromJSON({ ...json, name: 'RandomForest' }), /name/);
  assert.throws(() => IsolationForest.fromJSON({ ...json, version: 99 }), /version/);
  const broken = structuredClone(json);
  broken.trees[0].threshold.pop();
  assert.throws(() => IsolationForest.fromJSON(broken), /equal length/);
  const badFeature = structuredClone(json);
  badFeature.trees[0].feature[0] = 7;
  assert.throws(() => IsolationForest.fromJSON(badFeature), /feature 7 of 4/);
});

test('trees record the split feature range of each node: splitMin <= threshold < splitMax; JSON keeps it strictly', () => {
  const f = new IsolationForest({ randomState: 12, nEstimators: 5 }).fit(X);
  const rows = Float32Array.from(X.data);
  for (const t of f.trees) {
    assert.ok(t.splitMin && t.splitMax);
    // The root's range is the range of its feature over the tree's 256 sampled rows: within the data's.
    let mn = Infinity;
    let mx = -Infinity;
    for (let r = 0; r < X.rows; r++) {
      mn = Math.min(mn, rows[r * X.cols + t.feature[0]]);
      mx = Math.max(mx, rows[r * X.cols + t.feature[0]]);
    }
    assert.ok(t.splitMin[0] >= mn && t.splitMax[0] <= mx);
    for (let i = 0; i < t.left.length; i++) {
      if (t.left[i] < 0) continue;
      assert.ok(t.splitMin[i] <= t.threshold[i] && t.threshold[i] < t.splitMax[i]);
      assert.equal(Math.fround(t.splitMin[i]), t.splitMin[i]);
    }
  }
  const json = JSON.parse(JSON.stringify(f.toJSON()));
  assert.equal(json.version, 2);
  assert.deepEqual(IsolationForest.fromJSON(json).trees, f.trees);
  const inverted = structuredClone(json);
  inverted.trees[0].splitMax[0] = inverted.trees[0].splitMin[0];
  assert.throws(() => IsolationForest.fromJSON(inverted), /splitMin <= threshold < splitMax/);
  const half = structuredClone(json);
  half.trees[1].splitMax = null;
  assert.throws(() => IsolationForest.fromJSON(half), /together/);
  const short = structuredClone(json);
  short.trees[2].splitMin.pop();
  assert.throws(() => IsolationForest.fromJSON(short), /equal length/);
  assert.throws(() => IsolationForest.fromJSON({ ...json, version: 1 }), /version/);
  const missing = structuredClone(json);
  delete missing.trees[0].splitMin;
  assert.throws(() => IsolationForest.fromJSON(missing), /splitMin/);
});

test('maxFeatures < all: each tree only splits on its column subset', () => {
  const f = new IsolationForest({ randomState: 8, maxFeatures: { count: 1 }, nEstimators: 20 }).fit(X);
  const used = new Set<number>();
  for (const t of f.trees) {
    const feats = new Set(Array.from(t.feature).filter((v) => v >= 0));
    assert.ok(feats.size <= 1);
    for (const v of feats) used.add(v);
  }
  assert.ok(used.size >= 3, 'different trees use different columns');
});

test('maxSamples count > n is clipped with a warning; bootstrap works', () => {
  const small = gaussianMatrix(50, 2, 1);
  const f = new IsolationForest({ maxSamples: { count: 100 }, bootstrap: true, nEstimators: 5 }).fit(small);
  assert.equal(f.maxSamples, 50);
  assert.equal(f.warnings[0].code, 'max-samples-clipped');
  assert.equal(f.trees[0].nNodeSamples[0], 50);
});

test('one training row: score -0.5 like sklearn (c(1) = 0)', () => {
  const f = new IsolationForest({ nEstimators: 3 }).fit({ data: new Float64Array([1, 2]), rows: 1, cols: 2 });
  assert.equal(averagePathLength(f.maxSamples), 0);
  assert.deepEqual(Array.from(f.scoreSamples({ data: new Float64Array([1, 2, 9, 9]), rows: 2, cols: 2 })), [-0.5, -0.5]);
});

test('clear errors: not fitted, wrong columns, empty, non-finite with row and column, bad params', () => {
  const f = new IsolationForest();
  assert.throws(() => f.scoreSamples(X), NotFittedError);
  assert.throws(() => f.scoreSamples(X), /not fitted/);
  f.fit(gaussianMatrix(100, 3, 1));
  assert.throws(() => f.scoreSamples(X), /X has 4 features, but IsolationForest is expecting 3 features/);
  assert.throws(() => new IsolationForest().fit({ data: new Float64Array(0), rows: 0, cols: 3 }), /0 sample/);
  const bad = Float64Array.from(gaussianMatrix(10, 3, 1).data);
  bad[2 * 3 + 1] = NaN;
  const named = new IsolationForest();
  named.featureNames = ['bytes', 'packets', 'duration'];
  assert.throws(() => named.fit({ data: bad, rows: 10, cols: 3 }), (e: Error) => e instanceof InputError && /row 2, column 1 \("packets"\)/.test(e.message) && /NaN/.test(e.message));
  bad[2 * 3 + 1] = 1e39;
  assert.throws(() => new IsolationForest().fit({ data: bad, rows: 10, cols: 3 }), /too large for float32.*row 2, column 1/);
  assert.throws(() => new IsolationForest({ nEstimators: 1.5 }).fit(X), /nEstimators: allowed an integer/);
  assert.throws(() => new IsolationForest().fit({ data: new Float64Array(5), rows: 2, cols: 3 }), /does not match/);
});

test('float32 semantics: a value that rounds onto the threshold side as sklearn does', () => {
  // Two columns; a single split threshold between float32-rounded values decides the side.
  const f = IsolationForest.fromSklearn({
    n_features_in: 1,
    max_samples_: 3,
    offset_: -0.5,
    estimators_features: [[0]],
    estimators: [{ children_left: [1, -1, -1], children_right: [2, -1, -1], feature: [0, -2, -2], threshold: [0.1, -2, -2], n_node_samples: [3, 1, 2] }],
  });
  // fround(0.1) = 0.10000000149011612 > 0.1 → right (leaf of 2 rows, path 1 + c(2) = 2)
  // 0.09999999 → left (leaf of 1 row, path 1)
  const s = f.scoreSamples({ data: new Float64Array([0.1, 0.09999999]), rows: 2, cols: 1 });
  const c3 = averagePathLength(3);
  assert.equal(s[0], -(2 ** -(2 / c3)));
  assert.equal(s[1], -(2 ** -(1 / c3)));
});
