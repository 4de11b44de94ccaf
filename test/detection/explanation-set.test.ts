/**
 * ExplanationSet: the packed explanations are explain()'s, value for value, by position and by row;
 * the ranking keeps the order the objects were sorted in (ties in feature order, the built-in
 * sort's order with a NaN weight).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyModel } from '../../src/detection/model.ts';
import { ExplanationSet } from '../../src/detection/explanation-set.ts';
import { closeScorePool } from '../../src/detection/pool.ts';
import { featureStats } from '../../src/detection/preprocess.ts';
import type { FeatureContribution } from '../../src/detection/types.ts';
import { gaussianMatrix, toColumns } from './helpers.ts';

after(() => closeScorePool());

const FEATURES = ['bytes', 'packets', 'duration', 'dst_port'];

async function fitted(rows: number, seed: number) {
  const cols = toColumns(gaussianMatrix(rows, FEATURES.length, seed));
  cols[1][5] = NaN; // explained with the imputed mean
  cols[0][6] = Infinity;
  cols[3][7] = 40; // far out: a clear first feature
  const { model } = await AnomalyModel.fit(FEATURES, cols, { randomState: seed, contamination: 0.05 });
  return { cols, model };
}

describe('AnomalyModel.explainPacked', () => {
  it('when rows are explained packed, then each position gives explain()\'s explanation, on one thread or on workers', async () => {
    const { cols, model } = await fitted(8000, 3);
    const rows = [7, 5, 6, ...Array.from({ length: 5997 }, (_, i) => (i * 13 + 11) % 8000)];
    const objects = model.explain(cols, rows);
    for (const workers of [1, 2]) {
      const set = await model.explainPacked(cols, rows, { workers });
      assert.equal(set.size, rows.length);
      assert.deepEqual(Array.from(set.rows), rows);
      assert.deepEqual(set.toArray(), objects, `workers ${workers}`);
      assert.deepEqual(set.at(0), objects[0]);
      assert.deepEqual(set.at(rows.length - 1), objects[rows.length - 1]);
    }
    assert.deepEqual(await model.explainAsync(cols, rows, { workers: 2 }), objects);
    // The imputed mean of a missing value, the row's own value otherwise.
    assert.equal(objects[1].contributions.find((c) => c.feature === 'packets')!.value, model.stats[1].mean);
    assert.equal(objects[0].contributions[0].feature, 'dst_port');
    assert.equal(objects[0].contributions[0].value, 40);
  });

  it('when the arrays are read directly, then they hold each row\'s contributions in rank order', async () => {
    const { cols, model } = await fitted(3000, 5);
    const rows = Array.from({ length: 300 }, (_, i) => i * 10);
    const set = await model.explainPacked(cols, rows);
    const k = FEATURES.length;
    assert.deepEqual(Array.from(set.median), model.stats.map((s) => s.median));
    for (let i = 0; i < rows.length; i++) {
      const e = set.at(i);
      const seen = new Set<number>();
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const p = i * k + j;
        const c = e.contributions[j];
        assert.equal(FEATURES[set.feature[p]], c.feature);
        assert.equal(set.weight[p], c.weight);
        assert.equal(set.value[p], c.value);
        assert.equal(set.percentile[p], c.percentile);
        assert.equal(set.high[p] === 1 ? 'high' : 'low', c.direction);
        assert.equal(set.value[p], Number.isFinite(cols[set.feature[p]][rows[i]]) ? cols[set.feature[p]][rows[i]] : model.stats[set.feature[p]].mean);
        if (j > 0) {
          const before = set.weight[p - 1];
          assert.ok(before > set.weight[p] || (before === set.weight[p] && set.feature[p - 1] < set.feature[p]), `row ${rows[i]} rank ${j}`);
        }
        seen.add(set.feature[p]);
        sum += set.weight[p];
      }
      assert.equal(seen.size, k);
      assert.ok(Math.abs(sum - 1) < 1e-12);
    }
  });

  it('when no rows are asked for, then the set is empty; a row out of range is refused', async () => {
    const { cols, model } = await fitted(2000, 7);
    const empty = await model.explainPacked(cols, [], { workers: 2 });
    assert.equal(empty.size, 0);
    assert.deepEqual(empty.toArray(), []);
    await assert.rejects(model.explainPacked(cols, [2000], { workers: 2 }), /out of range/);
    await assert.rejects(model.explainPacked(cols, [1.5]), /out of range/);
  });
});

describe('ExplanationSet', () => {
  const stats = FEATURES.map((name, c) => {
    const col = Float64Array.from({ length: 101 }, (_, i) => i * (c + 1));
    return featureStats(name, col, 50 * (c + 1), 1);
  });

  /** What the model did before the set: objects in feature order, sorted by the comparator. */
  function sortedObjects(values: number[], credits: number[]): FeatureContribution[] {
    const total = credits.reduce((a, b) => a + b, 0);
    const weights = total > 0 ? credits.map((c) => c / total) : credits.map(() => 1 / credits.length);
    const list = values.map((value, c) => ({ feature: FEATURES[c], weight: weights[c] }));
    return list.sort((a, b) => b.weight - a.weight) as FeatureContribution[];
  }

  it('when weights tie, then feature order decides; when a weight is NaN, the built-in sort\'s order', () => {
    const values = [10, 20, 30, 40];
    const cases = [
      [1, 2, 2, 1], // ties
      [0, 0, 0, 0], // nothing isolated the row: equal weights
      [3, 1, 2, 4],
      [1, Infinity, 2, 0], // Infinity / Infinity: a NaN weight
      [Infinity, 1, Infinity, 2],
    ];
    const set = ExplanationSet.fromCredits(FEATURES, stats, Int32Array.from(cases, (_, i) => i), Float64Array.from(cases.flatMap(() => values)), Float64Array.from(cases.flat()));
    cases.forEach((credits, i) => {
      const expected = sortedObjects(values, credits).map((c) => c.feature);
      assert.deepEqual(set.at(i).contributions.map((c) => c.feature), expected, `credits ${credits.join(', ')}`);
    });
    assert.deepEqual(set.at(0).contributions.map((c) => c.feature), ['packets', 'duration', 'bytes', 'dst_port']);
    assert.deepEqual(set.at(1).contributions.map((c) => c.weight), [0.25, 0.25, 0.25, 0.25]);
  });

  it('when a value sits on the median, then its direction follows the percentile, as before', () => {
    // Feature 0's training values are 0..100: median 50, percentile of 50 is 50 → high; below → low.
    const set = ExplanationSet.fromCredits(FEATURES, stats, Int32Array.of(0, 1), Float64Array.of(50, 0, 0, 0, 49, 0, 0, 0), Float64Array.of(1, 0, 0, 0, 1, 0, 0, 0));
    assert.deepEqual(set.at(0).contributions[0], { feature: 'bytes', value: 50, median: 50, percentile: 50, direction: 'high', weight: 1 });
    assert.deepEqual(set.at(1).contributions[0], { feature: 'bytes', value: 49, median: 50, percentile: 49, direction: 'low', weight: 1 });
  });

  it('when rows are looked up, then by row as a Map answers (the first of a row given twice), in any order', () => {
    const rows = Int32Array.of(30, 10, 20, 10);
    const credits = Float64Array.from({ length: 16 }, (_, i) => (i % 5) + 1);
    const values = Float64Array.from({ length: 16 }, (_, i) => i);
    const set = ExplanationSet.fromCredits(FEATURES, stats, rows, values, credits);
    assert.deepEqual(set.get(10), set.at(1));
    assert.deepEqual(set.get(20), set.at(2));
    assert.equal(set.get(40), undefined);
    assert.equal(set.has(30), true);
    assert.equal(set.has(31), false);
    assert.equal(set.indexOf(10), 1);
    assert.deepEqual(Array.from(set.indicesOf([30, 10, 20, 10])), [0, 1, 2, 3]);
    assert.deepEqual(Array.from(set.indicesOf([20, 99, 10, 30, 10])), [2, -1, 1, 0, 1]);
    assert.deepEqual([...set].map(([row, e]) => [row, e.row]), [[30, 30], [10, 10], [20, 20], [10, 10]]);
    assert.throws(() => set.at(4), RangeError);
    assert.throws(() => set.at(-1), RangeError);
  });

  it('when the arrays do not fit the rows and features, then it is refused', () => {
    const ok = () => ({ feature: new Int32Array(8), weight: new Float64Array(8), value: new Float64Array(8), percentile: new Float64Array(8), high: new Uint8Array(8) });
    assert.equal(new ExplanationSet(['a', 'b'], Int32Array.of(1, 2, 3, 4), new Float64Array(2), ok()).size, 4);
    assert.throws(() => new ExplanationSet(['a', 'b'], Int32Array.of(1, 2, 3), new Float64Array(2), ok()), RangeError);
    assert.throws(() => new ExplanationSet(['a', 'b'], Int32Array.of(1, 2, 3, 4), new Float64Array(3), ok()), RangeError);
    assert.throws(() => new ExplanationSet(['a', 'b'], Int32Array.of(1, 2, 3, 4), new Float64Array(2), { ...ok(), high: new Uint8Array(7) }), RangeError);
  });
});
