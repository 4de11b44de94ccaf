import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectRanks } from '../../src/lib/select.ts';
import { mulberry32 } from '../../src/lib/prng.ts';

/** The reference: sort everything (the built-in sort puts -0 before +0) and index. */
function bySort(values: Float64Array, ranks: readonly number[]): number[] {
  const sorted = Float64Array.from(values).sort();
  return ranks.map((r) => sorted[r]);
}

/** Compare with Object.is, so -0 and +0 count as different. */
function assertSame(got: Float64Array, expected: number[], what: string): void {
  assert.equal(got.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(got[i], expected[i])) assert.fail(`${what}: rank #${i} gave ${Object.is(got[i], -0) ? '-0' : got[i]}, sort gives ${Object.is(expected[i], -0) ? '-0' : expected[i]}`);
  }
}

/** Percentile ranks (numpy's linear quantiles read rank floor(q (n-1)) and the next), min, max. */
function percentileRanks(n: number): number[] {
  const ranks = [0, n - 1];
  for (let k = 0; k <= 100; k++) {
    const lo = Math.floor((k / 100) * (n - 1));
    ranks.push(lo, Math.min(lo + 1, n - 1));
  }
  return ranks;
}

type Gen = (rnd: () => number, n: number) => Float64Array;

const GENERATORS: Record<string, Gen> = {
  'wide magnitudes, both signs': (rnd, n) => Float64Array.from({ length: n }, () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 600 - 300)),
  'few distinct values with -0 and +0': (rnd, n) => {
    const pool = [-0, 0, -3, 7, 7.5, -1e-300, 42];
    return Float64Array.from({ length: n }, () => pool[Math.floor(rnd() * pool.length)]);
  },
  'mostly zeros of both signs': (rnd, n) => Float64Array.from({ length: n }, () => (rnd() < 0.9 ? (rnd() < 0.5 ? -0 : 0) : rnd() - 0.5)),
  'small integers (ports, packets)': (rnd, n) => Float64Array.from({ length: n }, () => Math.floor(rnd() ** 4 * 20)),
  'heavy-tailed flow sizes': (rnd, n) => Float64Array.from({ length: n }, () => Math.round(40 * Math.exp(8 * rnd() ** 3))),
  'ascending': (_rnd, n) => Float64Array.from({ length: n }, (_, i) => i - n / 2),
  'descending with runs': (_rnd, n) => Float64Array.from({ length: n }, (_, i) => Math.floor((n - i) / 3)),
  'organ pipe': (_rnd, n) => Float64Array.from({ length: n }, (_, i) => Math.min(i, n - i)),
  'one value': (_rnd, n) => new Float64Array(n).fill(-2.5),
  'differ in the low word only': (rnd, n) => Float64Array.from({ length: n }, () => 1 + Math.floor(rnd() * 1e6) * 2 ** -52),
  'narrow band inside a wide range': (rnd, n) => Float64Array.from({ length: n }, (_, i) => (i % 10 === 0 ? (rnd() - 0.5) * 1e12 : 1 + rnd() * 1e-4)),
  'infinities': (rnd, n) => Float64Array.from({ length: n }, () => (rnd() < 0.05 ? -Infinity : rnd() < 0.05 ? Infinity : rnd())),
};

test('selectRanks equals the sort on every rank of small inputs, duplicates and signed zeros included', () => {
  const rnd = mulberry32(1);
  for (const [name, gen] of Object.entries(GENERATORS)) {
    for (let n = 1; n <= 70; n++) {
      const values = gen(rnd, n);
      const ranks = Array.from({ length: n }, (_, i) => i);
      assertSame(selectRanks(values, ranks), bySort(values, ranks), `${name}, n = ${n}, every rank`);
    }
    for (const n of [127, 128, 129, 1000, 5000]) {
      const values = gen(rnd, n);
      const ranks = percentileRanks(n);
      assertSame(selectRanks(values, ranks), bySort(values, ranks), `${name}, n = ${n}, percentiles`);
    }
  }
});

test('selectRanks equals the sort on large inputs (the bucketed path, recursing into big buckets)', () => {
  const rnd = mulberry32(2);
  for (const [name, gen] of Object.entries(GENERATORS)) {
    for (const n of [32_767, 32_768, 200_003]) {
      const values = gen(rnd, n);
      const ranks = percentileRanks(n);
      for (let i = 0; i < 50; i++) ranks.push(Math.floor(rnd() * n));
      assertSame(selectRanks(values, ranks), bySort(values, ranks), `${name}, n = ${n}`);
    }
  }
});

test('selectRanks: ranks in any order and repeated; the input is left unchanged', () => {
  const rnd = mulberry32(3);
  for (const n of [50, 100_000]) {
    const values = GENERATORS['few distinct values with -0 and +0'](rnd, n);
    const copy = Float64Array.from(values);
    const ranks = [n - 1, 0, 7, 7, Math.floor(n / 2), 3, n - 1, 0];
    assertSame(selectRanks(values, ranks), bySort(values, ranks), `n = ${n}`);
    assert.deepEqual(values, copy);
    assert.ok(values.every((v, i) => Object.is(v, copy[i])), 'signs of zeros kept');
  }
  assert.deepEqual(selectRanks(Float64Array.of(3, 1, 2), []), new Float64Array(0));
  assert.deepEqual(selectRanks(new Float64Array(0), []), new Float64Array(0));
});

test('selectRanks: a signed zero at each rank of a zero run (-0 first, as sorted)', () => {
  // 3 negatives, then 4 × -0 and 5 × +0 shuffled, then 2 positives: ranks 3..6 are -0, 7..11 are +0.
  const values = Float64Array.of(0, -0, 5, -1, 0, -0, 0, -2, -0, 0, 9, -0, 0, -3);
  const ranks = Array.from({ length: values.length }, (_, i) => i);
  assertSame(selectRanks(values, ranks), bySort(values, ranks), 'small');
  const big = new Float64Array(100_000);
  for (let i = 0; i < big.length; i++) big[i] = i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : i % 7;
  const bigRanks = percentileRanks(big.length);
  assertSame(selectRanks(big, bigRanks), bySort(big, bigRanks), 'large');
  // Zeros of both signs at the bottom (the first is +0) or at the top (the first is -0) of the range,
  // with subnormal neighbours: keys so close that every key has its own bucket.
  for (const sign of [1, -1]) {
    const edge = Float64Array.from({ length: 100_000 }, (_, i) => (i % 4 === 0 ? 0 : i % 4 === 1 ? -0 : sign * (i % 9) * 2 ** -1042));
    edge[0] = sign > 0 ? 0 : -0;
    assertSame(selectRanks(edge, bigRanks), bySort(edge, bigRanks), `zeros at the ${sign > 0 ? 'bottom' : 'top'}`);
  }
});

test('selectRanks rejects ranks out of range or not integers', () => {
  const v = Float64Array.of(1, 2, 3);
  assert.throws(() => selectRanks(v, [3]), RangeError);
  assert.throws(() => selectRanks(v, [-1]), /Rank -1 is out of range \(0\.\.2\)/);
  assert.throws(() => selectRanks(v, [0.5]), RangeError);
  assert.throws(() => selectRanks(new Float64Array(0), [0]), RangeError);
});
