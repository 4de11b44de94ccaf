import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseCodesOf, KeyIndex, timeOrder } from '../../src/findings/context.ts';
import { groupThousands } from '../../src/findings/rules.ts';

/** A small seeded generator (tests only; findings itself uses no randomness). */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

test('when keys repeat, then dense codes follow first appearance exactly as a Map would number them', () => {
  const rnd = lcg(3);
  const keys = new Float64Array(50_000).map(() => (rnd() < 0.05 ? NaN : Math.floor(rnd() * 3000) * 65536 + (rnd() < 0.5 ? 0.5 : 7)));
  keys[1] = -0;
  keys[2] = 0;
  const { codes, count } = denseCodesOf(keys);
  const map = new Map<number, number>();
  for (let i = 0; i < keys.length; i++) {
    if (Number.isNaN(keys[i])) {
      assert.equal(codes[i], -1);
      continue;
    }
    if (!map.has(keys[i])) map.set(keys[i], map.size);
    assert.equal(codes[i], map.get(keys[i]), `row ${i}`);
  }
  assert.equal(count, map.size);
  const index = new KeyIndex();
  assert.equal(index.get(42), -1);
  assert.equal(index.add(42), 0);
  assert.equal(index.add(2 ** 52 + 1), 1);
  assert.equal(index.get(2 ** 52 + 1), 1);
  assert.equal(index.get(2 ** 52), -1);
});

test('when times are whole milliseconds, then the radix order equals a stable sort by time with missing times last', () => {
  const rnd = lcg(11);
  for (const span of [1000, 86_400_000, 2 ** 40]) {
    const base = Date.parse('2024-03-04T00:00:00Z');
    const time = new Float64Array(20_000).map(() => (rnd() < 0.03 ? NaN : base + Math.floor(rnd() * span)));
    const expected = Array.from(time.keys()).sort((a, b) => {
      const ta = Number.isFinite(time[a]) ? time[a] : Infinity;
      const tb = Number.isFinite(time[b]) ? time[b] : Infinity;
      return ta === tb ? a - b : ta - tb;
    });
    assert.deepEqual(Array.from(timeOrder(time)), expected, `span ${span}`);
  }
});

test('when an integer is written with thousands separators, then it matches toLocaleString("en-US")', () => {
  const rnd = lcg(5);
  const values = [0, 7, 100, 999, 1000, -1000, 1234567, -987654321, 2 ** 53, 1e21, -0];
  for (let k = 0; k < 5000; k++) values.push(Math.round((rnd() - 0.5) * 10 ** (rnd() * 22)));
  for (const v of values) assert.equal(groupThousands(v), v.toLocaleString('en-US'), String(v));
});
