import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyModel } from '../../src/detection/model.ts';
import { closeScorePool, warmScorePool } from '../../src/detection/pool.ts';
import { severityOf, severities } from '../../src/detection/severity.ts';
import { featureStats, fitImputeScale, percentileOf } from '../../src/detection/preprocess.ts';
import { quantileSorted } from '../../src/detection/math.ts';
import type { FeatureStats } from '../../src/detection/types.ts';
import { mulberry32 } from '../../src/lib/prng.ts';
import { Random } from '../../src/detection/random.ts';
import { gaussianMatrix, toColumns } from './helpers.ts';

after(() => closeScorePool());

const FEATURES = ['bytes', 'packets', 'duration', 'dst_port'];

function data(rows = 3000, seed = 1): Float64Array[] {
  return toColumns(gaussianMatrix(rows, FEATURES.length, seed));
}

test('fit returns training scores, labels and severity computed once, consistent with score()', async () => {
  const cols = data();
  const fit = await AnomalyModel.fit(FEATURES, cols, { randomState: 1, contamination: 0.02 });
  assert.equal(fit.scores.length, 3000);
  const again = await fit.model.score(cols, { workers: 1 });
  assert.deepEqual(again.scores, fit.scores);
  assert.deepEqual(again.isAnomaly, fit.isAnomaly);
  assert.deepEqual(again.severity, fit.severity);
  const flagged = fit.isAnomaly.reduce((a, b) => a + b, 0);
  assert.ok(flagged >= 55 && flagged <= 65, `about 2% flagged, got ${flagged}`);
  for (let i = 0; i < 3000; i++) assert.equal(fit.isAnomaly[i] === 1, fit.severity[i] > 50);
  assert.deepEqual(fit.model.params, { nEstimators: 100, maxSamples: 'auto', contamination: 0.02, maxFeatures: { fraction: 1 }, bootstrap: false, randomState: 1 });
  assert.deepEqual(fit.model.features, FEATURES);
});

test('explanations: a row extreme in exactly one feature ranks that feature first; weights sum to 1', async () => {
  const cols = data(4000, 2);
  const extreme: [number, number][] = [[10, 0], [20, 1], [30, 2], [40, 3]];
  for (const [row, c] of extreme) cols[c][row] = c % 2 === 0 ? 25 : -25;
  const { model } = await AnomalyModel.fit(FEATURES, cols, { randomState: 3 });
  const ex = model.explain(cols, extreme.map(([r]) => r).concat([0, 1, 2]));
  for (let k = 0; k < extreme.length; k++) {
    const [row, c] = extreme[k];
    const e = ex[k];
    assert.equal(e.row, row);
    assert.equal(e.contributions[0].feature, FEATURES[c], `row ${row}: ${JSON.stringify(e.contributions)}`);
    assert.ok(e.contributions[0].weight > e.contributions[1].weight + 0.04, JSON.stringify(e.contributions));
    assert.equal(e.contributions[0].value, cols[c][row]);
    assert.equal(e.contributions[0].direction, c % 2 === 0 ? 'high' : 'low');
    assert.equal(e.contributions[0].percentile, c % 2 === 0 ? 100 : 0);
  }
  for (const e of ex) {
    assert.equal(e.contributions.length, 4);
    const sum = e.contributions.reduce((a, x) => a + x.weight, 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, `sum ${sum}`);
    for (let i = 1; i < e.contributions.length; i++) assert.ok(e.contributions[i - 1].weight >= e.contributions[i].weight);
    for (const c of e.contributions) assert.equal(c.median, model.stats[FEATURES.indexOf(c.feature)].median);
  }
  assert.throws(() => model.explain(cols, [4000]), /out of range/);
});

test('explanations are sharp: one feature 50 std out gets weight >= 0.6 of 4, at least 3x the next', async () => {
  for (const seed of [2, 12, 22, 32]) {
    const cols = data(4000, seed);
    const extreme: [number, number][] = [[10, 0], [20, 1], [30, 2], [40, 3]];
    for (const [row, c] of extreme) cols[c][row] = c % 2 === 0 ? 25 : -25;
    const { model } = await AnomalyModel.fit(FEATURES, cols, { randomState: 3 });
    const ex = model.explain(cols, extreme.map(([r]) => r));
    extreme.forEach(([, c], k) => {
      const [first, second] = ex[k].contributions;
      assert.equal(first.feature, FEATURES[c]);
      assert.ok(first.weight >= 0.6, `seed ${seed} row ${ex[k].row}: ${JSON.stringify(ex[k].contributions)}`);
      assert.ok(first.weight >= 3 * second.weight, `seed ${seed} row ${ex[k].row}: ${JSON.stringify(ex[k].contributions)}`);
    });
  }
});

test('explainAsync on workers equals explain, for any split of the rows', async () => {
  const cols = data(12_000, 9);
  cols[2][7] = NaN;
  const { model } = await AnomalyModel.fit(FEATURES, cols, { randomState: 9, contamination: 0.05 });
  const rows = Array.from({ length: 6001 }, (_, i) => (i * 7) % 12_000);
  const serial = model.explain(cols, rows);
  assert.deepEqual(await model.explainAsync(cols, rows, { workers: 2 }), serial);
  assert.deepEqual(await model.explainAsync(cols, rows), serial);
  assert.deepEqual(await model.explainAsync(cols, rows.slice(0, 3), { workers: 2 }), serial.slice(0, 3));
  assert.deepEqual(await model.explainAsync(cols, [], { workers: 2 }), []);
  await assert.rejects(model.explainAsync(cols, [12_000], { workers: 2 }), /out of range/);
});

test('warmScorePool starts the workers ahead of time; later fits use them', async () => {
  await closeScorePool();
  await warmScorePool(2);
  await warmScorePool(2); // idempotent
  const cols = data(60_000, 10);
  const a = await AnomalyModel.fit(FEATURES, cols, { randomState: 5 }, { workers: 2 });
  const b = await AnomalyModel.fit(FEATURES, cols, { randomState: 5 }, { workers: 1 });
  assert.deepEqual(a.scores, b.scores);
});

test('explaining 50,000 rows works and is deterministic', async () => {
  const cols = data(50_000, 4);
  const { model } = await AnomalyModel.fit(FEATURES, cols, { randomState: 4, nEstimators: 100 });
  const rows = Array.from({ length: 50_000 }, (_, i) => i);
  const ex = model.explain(cols, rows);
  assert.equal(ex.length, 50_000);
  assert.deepEqual(model.explain(cols, [123, 49_999]), [ex[123], ex[49_999]]);
});

test('severity: offset → 50, -1 → 100, 0 → 0, monotone, clamped', () => {
  for (const offset of [-0.5, -0.62, -0.41]) {
    assert.equal(severityOf(offset, offset), 50);
    assert.equal(severityOf(-1, offset), 100);
    assert.equal(severityOf(0, offset), 0);
    assert.equal(severityOf(-2, offset), 100);
    let prev = Infinity;
    for (let s = -1; s <= 0; s += 0.001) {
      const v = severityOf(s, offset);
      assert.ok(v <= prev && v >= 0 && v <= 100);
      assert.equal(v > 50, s < offset);
      prev = v;
    }
  }
  assert.equal(severityOf(-0.7, -0.5), 70);
  assert.equal(severityOf(-0.25, -0.5), 25);
  assert.deepEqual(Array.from(severities(new Float64Array([-0.75, -0.5]), -0.5)), [75, 50]);
});

test('imputation: NaN and ±Infinity counted and replaced by the training mean; stats on imputed values', async () => {
  const cols = data(1000, 5);
  cols[1][3] = NaN;
  cols[1][4] = NaN;
  cols[2][7] = Infinity;
  const fit = await AnomalyModel.fit(FEATURES, cols, { randomState: 0 });
  assert.deepEqual(fit.model.stats.map((s) => s.imputed), [0, 2, 1, 0]);
  assert.deepEqual(fit.warnings.map((w) => w.code), ['missing-imputed', 'missing-imputed']);
  assert.match(fit.warnings[0].message, /"packets": 2 missing/);
  const { scaler } = fitImputeScale(cols);
  let sum = 0;
  let n = 0;
  for (const v of cols[1]) if (Number.isFinite(v)) (sum += v), n++;
  assert.ok(Math.abs(scaler.mean[1] - sum / n) < 1e-15);
  // A missing value scores like the mean.
  const probe = cols.map((c) => Float64Array.of(c[0], c[0]));
  probe[1][1] = NaN;
  probe[1][0] = scaler.mean[1];
  const s = await fit.model.score(probe);
  assert.equal(s.scores[0], s.scores[1]);
});

test('feature stats: mean, std, min, max, median, 101 quantiles; percentile lookup', () => {
  const col = Float64Array.from({ length: 101 }, (_, i) => 100 - i); // 100..0
  const st = featureStats('x', col, 50, 29.154759474226502);
  assert.equal(st.min, 0);
  assert.equal(st.max, 100);
  assert.equal(st.median, 50);
  assert.equal(st.quantiles.length, 101);
  assert.equal(st.quantiles[25], 25);
  assert.equal(percentileOf(st, 25), 25);
  assert.equal(percentileOf(st, 25.5), 25.5);
  assert.equal(percentileOf(st, -1), 0);
  assert.equal(percentileOf(st, 1000), 100);
  const ties = featureStats('t', Float64Array.from([0, 0, 0, 0, 1]), 0.2, 0.4);
  assert.equal(percentileOf(ties, 0), 37.5); // quantiles 0..75 are 0: middle of that range
  const { std, scaler } = fitImputeScale([Float64Array.from([1, 2, 3, 4]), Float64Array.from([5, 5, 5, 5])]);
  assert.equal(std[0], Math.sqrt(1.25));
  assert.equal(scaler.scale[1], 1, 'std 0 → scale 1');
});

/** featureStats as computed before selection: impute, sort everything, read min, max and quantiles off. */
function featureStatsBySort(name: string, column: Float64Array, mean: number, std: number, quantileCount = 101): FeatureStats {
  let imputed = 0;
  const sorted = Float64Array.from(column, (v) => (v - v === 0 ? v : (imputed++, mean))).sort();
  const quantiles = Array.from({ length: quantileCount }, (_, k) => quantileSorted(sorted, k / (quantileCount - 1)));
  const n = sorted.length;
  return { name, mean, std, min: sorted[0], max: sorted[n - 1], median: quantileSorted(sorted, 0.5), quantiles, imputed };
}

test('feature stats equal the sort-based reference: missing values, duplicates, negatives, signed zeros, any size', () => {
  const rnd = mulberry32(11);
  const columns: Record<string, (n: number) => Float64Array> = {
    'wide magnitudes with missing values': (n) =>
      Float64Array.from({ length: n }, () => (rnd() < 0.02 ? NaN : rnd() < 0.01 ? -Infinity : (rnd() - 0.3) * 10 ** Math.floor(rnd() * 40 - 20))),
    'ports and zeros of both signs': (n) => Float64Array.from({ length: n }, () => [0, -0, 22, 80, 443, 53, 8080][Math.floor(rnd() ** 2 * 7)]),
    'mostly zero rates': (n) => Float64Array.from({ length: n }, () => (rnd() < 0.7 ? 0 : Math.round(rnd() * 1000) / 10000)),
    'all missing but one': (n) => Float64Array.from({ length: n }, (_, i) => (i === n >> 1 ? -4 : NaN)),
  };
  for (const [what, make] of Object.entries(columns)) {
    for (const n of [1, 2, 3, 10, 101, 1000, 50_000]) {
      const column = make(n);
      const mean = -0.125;
      for (const count of [101, 7, 2]) {
        assert.deepStrictEqual(featureStats('x', column, mean, 2, count), featureStatsBySort('x', column, mean, 2, count), `${what}, n = ${n}, ${count} quantiles`);
      }
    }
  }
  const huge = Float64Array.of(-1.5e308, 1.5e308, 0, 1, 2); // b - a overflows: numpy's lerp gives NaN at q = 0, as sorting does
  assert.deepStrictEqual(featureStats('h', huge, 0, 1), featureStatsBySort('h', huge, 0, 1));
});

test('persistence: toJSON/fromJSON round trip gives identical scores; wrong name and lengths rejected', async () => {
  const cols = data(2000, 6);
  cols[0][5] = NaN;
  const { model } = await AnomalyModel.fit(FEATURES, cols, { randomState: 6, contamination: 0.1 });
  const json = JSON.parse(JSON.stringify(model.toJSON()));
  assert.equal(json.name, 'AnomalyModel');
  assert.equal(json.forest.name, 'IsolationForest');
  assert.equal(json.version, 1);
  assert.equal(json.forest.version, 2);
  assert.equal(json.forest.trees[0].splitMin.length, json.forest.trees[0].left.length);
  const back = AnomalyModel.fromJSON(json);
  assert.deepEqual((await back.score(cols)).scores, (await model.score(cols)).scores);
  assert.equal(back.offset, model.offset);
  assert.deepEqual(back.stats, model.stats);
  assert.deepEqual(back.explain(cols, [1, 2]), model.explain(cols, [1, 2]));
  assert.throws(() => AnomalyModel.fromJSON({ ...json, name: 'IsolationForest' }), /name/);
  assert.throws(() => AnomalyModel.fromJSON({ ...json, features: ['a', 'b', 'c'] }), /3 features but scaler 4/);
  const badStats = structuredClone(json);
  badStats.stats[1].name = 'zzz';
  assert.throws(() => AnomalyModel.fromJSON(badStats), /stats.1 is "zzz"/);
});

test('input errors name what is wrong', async () => {
  const cols = data(100, 7);
  await assert.rejects(AnomalyModel.fit([], []), /at least one feature/);
  await assert.rejects(AnomalyModel.fit(FEATURES, cols.slice(0, 3)), /Expected 4 columns/);
  await assert.rejects(AnomalyModel.fit(['a', 'a', 'b', 'c'], cols), /unique/);
  const short = [...cols];
  short[2] = short[2].subarray(0, 50);
  await assert.rejects(AnomalyModel.fit(FEATURES, short), /"duration" has 50 rows, expected 100/);
  await assert.rejects(AnomalyModel.fit(FEATURES, cols.map(() => new Float64Array(0))), /No rows/);
  await assert.rejects(AnomalyModel.fit(FEATURES, cols, { contamination: 2 }), /contamination: allowed/);
});

test('parallel fit scoring equals single-threaded', async () => {
  const cols = data(60_000, 8);
  const a = await AnomalyModel.fit(FEATURES, cols, { randomState: 2 }, { workers: 2 });
  const b = await AnomalyModel.fit(FEATURES, cols, { randomState: 2 }, { workers: 1 });
  assert.deepEqual(a.scores, b.scores);
  assert.deepEqual(a.model.toJSON(), b.model.toJSON());
});
