import { test } from 'node:test';
import assert from 'node:assert/strict';
import { averagePathLength, maxDepthFor, quantile, quantileSorted, selectQuantiles } from '../../src/detection/math.ts';
import { mulberry32 } from '../../src/lib/prng.ts';
import { resolveMaxFeatures, resolveMaxSamples, validateParams, ParameterError } from '../../src/detection/params.ts';
import { Random, sampleWithoutReplacement } from '../../src/detection/random.ts';
import type { DetectionWarning } from '../../src/detection/types.ts';

test('c(n) matches sklearn check values', () => {
  assert.equal(averagePathLength(0), 0);
  assert.equal(averagePathLength(1), 0);
  assert.equal(averagePathLength(2), 1);
  assert.equal(averagePathLength(3), 1.207392357589623);
  assert.equal(averagePathLength(256), 10.244770920119917);
});

test('max depth = ceil(log2(max(maxSamples, 2)))', () => {
  assert.equal(maxDepthFor(1), 1);
  assert.equal(maxDepthFor(2), 1);
  assert.equal(maxDepthFor(3), 2);
  assert.equal(maxDepthFor(256), 8);
  assert.equal(maxDepthFor(257), 9);
});

test('maxSamples rules: auto, count (clipped with a warning), fraction', () => {
  const w: DetectionWarning[] = [];
  assert.equal(resolveMaxSamples('auto', 1000, w), 256);
  assert.equal(resolveMaxSamples('auto', 100, w), 100);
  assert.equal(resolveMaxSamples({ count: 50 }, 100, w), 50);
  assert.equal(w.length, 0);
  assert.equal(resolveMaxSamples({ count: 500 }, 100, w), 100);
  assert.equal(w.length, 1);
  assert.equal(w[0].code, 'max-samples-clipped');
  assert.match(w[0].message, /500.*100/);
  assert.equal(resolveMaxSamples({ fraction: 0.5 }, 101, w), 50);
  assert.equal(resolveMaxSamples({ fraction: 1 }, 7, w), 7);
  assert.equal(resolveMaxFeatures({ fraction: 0.6 }, 5), 3);
  assert.equal(resolveMaxFeatures({ fraction: 0.1 }, 5), 1);
  assert.equal(resolveMaxFeatures({ count: 2 }, 5), 2);
  assert.throws(() => resolveMaxFeatures({ count: 6 }, 5), /maxFeatures/);
});

test('quantile = numpy linear interpolation', () => {
  // np.percentile([1, 2, 3, 4], 10) = 1.3; np.percentile([5, 1, 3], 50) = 3; [0, 10] at 0.25 = 2.5
  assert.equal(quantile([1, 2, 3, 4], 0.1), 1.3);
  assert.equal(quantile([5, 1, 3], 0.5), 3);
  assert.equal(quantileSorted([0, 10], 0.25), 2.5);
  assert.equal(quantileSorted([0, 10], 0.75), 7.5);
  assert.equal(quantileSorted([7], 0.3), 7);
  assert.equal(quantileSorted([-1, 2, 2, 9], 1), 9);
  // np.percentile(np.arange(11) ** 2, 35) = 12.5
  assert.equal(quantile(Array.from({ length: 11 }, (_, i) => i * i), 0.35), 12.5);
});

test('selectQuantiles equals quantileSorted on the sorted values, bit for bit; order statistics too', () => {
  const rnd = mulberry32(5);
  const qs = [0, 1, 0.5, 0.05, 0.95, 1 / 3, 0.999999, 1e-9, -0.01, 1.01, NaN];
  for (let i = 0; i < 20; i++) qs.push(rnd());
  for (const n of [1, 2, 3, 17, 1000, 40_000, 250_001]) {
    const values = Float64Array.from({ length: n }, () => (rnd() < 0.3 ? Math.floor(rnd() * 5) - 2 : (rnd() - 0.5) * 10 ** Math.floor(rnd() * 12)));
    const sorted = Float64Array.from(values).sort();
    const ranks = [0, n - 1, Math.floor(n / 3)];
    const got = selectQuantiles(values, qs, ranks);
    qs.forEach((q, i) => assert.ok(Object.is(got.quantiles[i], quantileSorted(sorted, q)), `n = ${n}, q = ${q}: ${got.quantiles[i]} vs ${quantileSorted(sorted, q)}`));
    assert.deepStrictEqual(got.atRanks, ranks.map((r) => sorted[r]));
  }
  assert.deepStrictEqual(selectQuantiles(new Float64Array(0), [0, 0.5]), { quantiles: [NaN, NaN], atRanks: [] });
  // b - a overflows to Infinity: numpy's lerp (and quantileSorted) give NaN at g = 0 and Infinity-ish values elsewhere.
  const huge = Float64Array.of(1.5e308, -1.5e308);
  assert.deepStrictEqual(selectQuantiles(huge, [0, 0.25, 1]).quantiles, [0, 0.25, 1].map((q) => quantileSorted(Float64Array.from(huge).sort(), q)));
});

test('validation names the parameter, what is allowed and what was given', () => {
  assert.throws(() => validateParams({ nEstimators: 0 }), (e: Error) => e instanceof ParameterError && /nEstimators/.test(e.message) && /integer in \[1, 10000\]/.test(e.message) && /given 0/.test(e.message));
  assert.throws(() => validateParams({ contamination: 0.7 }), /contamination: allowed 'auto' or a number in \(0, 0.5\], given 0.7/);
  assert.throws(() => validateParams({ maxSamples: 256 as never }), /maxSamples.*given 256/);
  assert.throws(() => validateParams({ maxSamples: { fraction: 1.5 } }), /maxSamples.*given \{"fraction":1.5\}/);
  assert.throws(() => validateParams({ randomState: -1 }), /randomState/);
  assert.throws(() => validateParams({ bogus: 1 } as never), /Unknown parameter "bogus"/);
  assert.deepEqual(validateParams({}), { nEstimators: 100, maxSamples: 'auto', contamination: 'auto', maxFeatures: { fraction: 1 }, bootstrap: false, randomState: 0 });
});

test('PRNG: same seed same stream, different seeds differ, sampling is distinct and in range', () => {
  const a = new Random(42);
  const b = new Random(42);
  const c = new Random(43);
  const sa = Array.from({ length: 5 }, () => a.nextUint32());
  assert.deepEqual(sa, Array.from({ length: 5 }, () => b.nextUint32()));
  assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.nextUint32()));
  const s = sampleWithoutReplacement(new Random(1), 1000, 256);
  assert.equal(new Set(s).size, 256);
  assert.ok(Array.from(s).every((v) => v >= 0 && v < 1000));
  const d = new Random(7);
  for (let i = 0; i < 1000; i++) {
    const x = d.nextDouble();
    assert.ok(x >= 0 && x < 1);
  }
});
