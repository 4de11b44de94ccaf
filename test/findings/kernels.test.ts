/**
 * The typed-array kernels findings is built on, each against the simple version it replaces: Map
 * numbering for codes and groups, the native sort, a comparator sort for time order, one row at a
 * time for rule typing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext, groupBy, KeyIndex, orderByValueDesc, pairCodes, restrictCodes, restrictRows, sortNumbers, timeOrder } from '../../src/findings/context.ts';
import type { Context } from '../../src/findings/context.ts';
import { ExplanationIndex } from '../../src/findings/explanations.ts';
import { fmt, resolveRules, shortPrecision3, signatureMatches, typeFlow, typeRows } from '../../src/findings/rules.ts';
import type { Explanation } from '../../src/detection/types.ts';
import { generateTraffic, trafficToFlowTable } from '../../src/generator/index.ts';

/** A small seeded generator (tests only; findings itself uses no randomness). */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** Map numbering: codes 0, 1, ... in order of first appearance of each key (undefined: no code). */
function mapCodes(keys: readonly (string | number | undefined)[]): { codes: number[]; count: number } {
  const map = new Map<string | number, number>();
  const codes = keys.map((k) => {
    if (k === undefined) return -1;
    if (!map.has(k)) map.set(k, map.size);
    return map.get(k)!;
  });
  return { codes, count: map.size };
}

/** A context with only the address and port columns, missing addresses and odd ports included. */
function addressContext(seed: number, n: number, addresses: number, withPort = true): Pick<Context, 'n' | 'src' | 'dst' | 'dport' | 'addresses'> {
  const rnd = lcg(seed);
  const code = () => (rnd() < 0.05 ? -1 : Math.floor(rnd() ** 2 * addresses));
  const port = () => {
    const r = rnd();
    return r < 0.02 ? NaN : r < 0.04 ? 22.5 : r < 0.06 ? 70_000 + Math.floor(rnd() * 10) : r < 0.08 ? -3 : [22, 53, 80, 443, 8080][Math.floor(rnd() * 5)];
  };
  return {
    n,
    src: Int32Array.from({ length: n }, code),
    dst: Int32Array.from({ length: n }, code),
    dport: withPort ? Float64Array.from({ length: n }, port) : null,
    addresses: Array.from({ length: addresses }, (_, k) => `10.0.${k >> 8}.${k & 255}`),
  };
}

test('when keys are small integers, negative, fractional or beyond 32 bits, then KeyIndex numbers them as a Map would', () => {
  const rnd = lcg(29);
  const pool = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 32 + 5, 0.5, -7.25, 2 ** 52 + 1, 1e300, -1e-300];
  const keys: number[] = [];
  for (let k = 0; k < 30_000; k++) keys.push(rnd() < 0.3 ? pool[Math.floor(rnd() * pool.length)] : Math.floor((rnd() - 0.3) * 5000) * (rnd() < 0.1 ? 65536 : 1));
  const index = new KeyIndex(4);
  const expected = new Map<number, number>();
  for (const k of keys) {
    if (!expected.has(k)) expected.set(k, expected.size);
    assert.equal(index.add(k), expected.get(k), `add ${k}`);
  }
  assert.equal(index.size, expected.size);
  for (const [k, c] of expected) assert.equal(index.get(k), c, `get ${k}`);
  for (const k of [3.5, 2 ** 33, -(2 ** 31) - 1, 123_456_789]) if (!expected.has(k)) assert.equal(index.get(k), -1, `absent ${k}`);
});

test('when rows have missing addresses and odd ports, then pair and pair-port codes are the Map numbering of (source, destination[, port & 0xffff])', () => {
  for (const withPort of [true, false]) {
    const ctx = addressContext(3, 20_000, 300, withPort);
    const pc = pairCodes(ctx);
    const pairs = mapCodes(Array.from({ length: ctx.n }, (_, i) => `${ctx.src![i]},${ctx.dst![i]}`));
    assert.deepEqual(Array.from(pc.pair), pairs.codes);
    assert.equal(pc.pairCount, pairs.count);
    const ports = mapCodes(Array.from({ length: ctx.n }, (_, i) => `${ctx.src![i]},${ctx.dst![i]},${ctx.dport ? ctx.dport[i] & 0xffff : 0}`));
    assert.deepEqual(Array.from(pc.pairPort), ports.codes);
    assert.equal(pc.pairPortCount, ports.count);
    for (let i = 0; i < ctx.n; i += 97) assert.equal(pc.pairIndex.get((ctx.src![i] + 1) * (ctx.addresses.length + 1) + ctx.dst![i] + 1), pc.pair[i]);
    assert.equal(pairCodes(ctx), pc, 'made once per context');
  }
});

test('when codes are restricted to some rows, then they are renumbered in order of first appearance among those rows', () => {
  const rnd = lcg(41);
  const n = 10_000;
  const { codes: full, count } = mapCodes(Array.from({ length: n }, () => (rnd() < 0.03 ? undefined : Math.floor(rnd() * 800))));
  const codes = Int32Array.from(full);
  const keep = Uint8Array.from({ length: n }, () => (rnd() < 0.3 ? 1 : 0));
  const expected = mapCodes(Array.from({ length: n }, (_, i) => (keep[i] && codes[i] >= 0 ? codes[i] : undefined)));
  const r = restrictCodes(codes, count, keep, new Int32Array(n));
  assert.deepEqual(Array.from(r.codes), expected.codes);
  assert.equal(r.count, expected.count);
  const keptCodes = new Set<number>();
  for (let i = 0; i < n; i++) {
    if (keep[i] === 0 || codes[i] < 0) continue;
    assert.equal(r.remap[codes[i]], r.codes[i], `remap of row ${i}`);
    keptCodes.add(codes[i]);
  }
  for (let c = 0; c < count; c++) if (!keptCodes.has(c)) assert.equal(r.remap[c], -1, `code ${c} has no kept row`);
  // The same over a list of the kept rows: only those rows are written.
  const out = new Int32Array(n).fill(-99);
  const listed = Uint32Array.from(Array.from(keep.keys()).filter((i) => keep[i] === 1));
  const rr = restrictRows(codes, count, listed, out);
  assert.equal(rr.count, expected.count);
  assert.deepEqual(Array.from(rr.remap), Array.from(r.remap));
  for (let i = 0; i < n; i++) assert.equal(out[i], keep[i] ? expected.codes[i] : -99, `row ${i}`);
});

test('when rows are grouped from a list in some order, then each group holds its listed rows in list order', () => {
  const rnd = lcg(5);
  const n = 5000;
  const codes = Int32Array.from({ length: n }, () => (rnd() < 0.05 ? -1 : Math.floor(rnd() * 60)));
  const time = Float64Array.from({ length: n }, () => Math.floor(rnd() * 1000) * 1000);
  const order = timeOrder(time);
  const mask = Uint8Array.from({ length: n }, () => (rnd() < 0.4 ? 1 : 0));
  for (const list of [order, order.filter((i) => mask[i] === 1), null]) {
    const rows = list ? Array.from(list) : Array.from({ length: n }, (_, i) => i);
    const expected = new Map<number, number[]>();
    for (const i of rows) if (codes[i] >= 0) (expected.get(codes[i]) ?? expected.set(codes[i], []).get(codes[i])!).push(i);
    const times = list ? Float64Array.from(list, (i) => time[i]) : null;
    const g = groupBy(codes, 60, list, times);
    for (let c = 0; c < 60; c++) {
      const got = Array.from(g.rows.subarray(g.start[c], g.start[c + 1]));
      assert.deepEqual(got, expected.get(c) ?? [], `group ${c}`);
      if (g.times) assert.deepEqual(Array.from(g.times.subarray(g.start[c], g.start[c + 1])), got.map((i) => time[i]));
    }
  }
});

test('when numbers are sorted, then sortNumbers orders them exactly as the native sort, -0 before 0', () => {
  const rnd = lcg(13);
  const gens: (() => number)[] = [
    () => {
      const r = rnd();
      return r < 0.05 ? -0 : r < 0.1 ? 0 : r < 0.15 ? Math.floor(rnd() * 10) : r < 0.2 ? (rnd() < 0.5 ? -1 : 1) * 5e-324 * Math.floor(rnd() * 1000) : r < 0.22 ? (rnd() < 0.5 ? Infinity : -Infinity) : (rnd() - 0.5) * 10 ** (rnd() * 40 - 20);
    },
    () => Math.floor(rnd() * 100_000),
    () => Math.round(rnd() ** 3 * 1e7) / 7,
    () => 42,
  ];
  for (const gen of gens) {
    for (const n of [0, 1, 100, 4095, 4096, 70_000]) {
      const values = Float64Array.from({ length: n }, gen);
      const expected = values.slice().sort();
      const sorted = sortNumbers(values);
      assert.equal(sorted, values, 'in place');
      for (let i = 0; i < n; i++) assert.ok(Object.is(sorted[i], expected[i]), `n ${n} at ${i}: ${sorted[i]} vs ${expected[i]}`);
    }
  }
  const view = Float64Array.from({ length: 10_000 }, gens[0]).subarray(3, 9000);
  const expected = view.slice().sort();
  assert.deepEqual(Array.from(sortNumbers(view)), Array.from(expected), 'a subarray view');
});

test('when times are whole seconds, with some missing, then the order equals a stable sort by time with missing times last', () => {
  const rnd = lcg(23);
  const base = Date.parse('2024-03-04T00:00:00Z');
  for (const [n, spanSeconds] of [
    [20_000, 86_400],
    [3000, 10],
    [2000, 500_000], // more seconds than rows: the millisecond radix path
  ]) {
    const time = Float64Array.from({ length: n }, () => (rnd() < 0.03 ? NaN : base + 1000 * Math.floor(rnd() * spanSeconds)));
    const key = (i: number) => (Number.isFinite(time[i]) ? time[i] : Infinity);
    const expected = Array.from(time.keys()).sort((a, b) => key(a) - key(b) || a - b);
    assert.deepEqual(Array.from(timeOrder(time)), expected, `${n} rows over ${spanSeconds} s`);
  }
});

test('when many anomalous rows are typed at once, then each typing equals typing its row alone, reasons included', () => {
  const t = generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 24, rows: 6000, seed: 8 });
  const table = trafficToFlowTable(t);
  const ctx = buildContext(table);
  const resolved = resolveRules(ctx);
  const rnd = lcg(77);
  // Explanations of every fourth row: two or more contributions, sometimes one, sometimes none.
  const features = ['bytes_transferred', 'packet_count', 'connection_duration', 'packets_per_second', 'bytes_per_packet'];
  const explanations = new Map<number, Explanation>();
  const rows: number[] = [];
  for (let i = 0; i < t.rows; i += 4) {
    rows.push(i);
    if (rnd() < 0.1) continue;
    const count = rnd() < 0.1 ? Math.floor(rnd() * 2) : 3;
    const contributions = Array.from({ length: count }, (_, j) => ({
      feature: features[(i + j) % features.length],
      value: Math.round(rnd() * 1e6) / 100,
      median: 10,
      percentile: Math.round(rnd() * 1000) / 10,
      direction: rnd() < 0.5 ? ('high' as const) : ('low' as const),
      weight: 1 / (j + 2),
    }));
    explanations.set(i, { row: i, contributions });
  }
  const x = new ExplanationIndex(explanations);
  const list = Int32Array.from(rows);
  const slots = x.slotsOf(list);
  rows.forEach((row, j) => assert.equal(slots[j] >= 0 ? x.row[slots[j]] : -1, explanations.has(row) ? row : -1, `slot of row ${row}`));
  const typings = typeRows(ctx, resolved, list, slots, x, signatureMatches(resolved, x));
  const seen = new Set<string>();
  rows.forEach((row, j) => {
    const alone = typeFlow(ctx, resolved, row, explanations.get(row));
    assert.deepEqual(typings.typing(j), alone, `row ${row}`);
    seen.add(alone.type);
    if (alone.type === 'untyped') {
      // The untyped reason as the one-row code wrote it with template strings.
      const why = explanations
        .get(row)
        ?.contributions.slice(0, 2)
        .map((c) => `${c.feature} ${c.direction} (${fmt(c.value)}, ${fmt(c.percentile)}th percentile)`)
        .join(', ');
      assert.ok(alone.reason.startsWith(`unusual, untyped${why ? `: ${why}` : ''}`), alone.reason);
    }
  });
  assert.ok(seen.size >= 3, `several types among the rows: ${[...seen].join(', ')}`);
});

test('when values are ordered highest first, then orderByValueDesc equals a stable comparator sort, 0 before -0', () => {
  const rnd = lcg(31);
  for (const n of [0, 1, 50, 5000, 70_000]) {
    const values = Float64Array.from({ length: n }, () => {
      const r = rnd();
      return r < 0.1 ? 0 : r < 0.15 ? -0 : r < 0.2 ? Math.floor(rnd() * 5) : r < 0.25 ? -Infinity : r < 0.27 ? Infinity : (rnd() - 0.5) * 10 ** (rnd() * 30 - 15);
    });
    const negativeZero = (i: number) => (Object.is(values[i], -0) ? 1 : 0);
    // Infinity - Infinity is NaN: equal infinities fall through to the next key, as equal values do.
    const expected = Array.from(values.keys()).sort((a, b) => values[b] - values[a] || negativeZero(a) - negativeZero(b) || a - b);
    assert.deepEqual(Array.from(orderByValueDesc(values)), expected, `n ${n}`);
  }
});

test('when numbers between 1 and 100 are written with three significant digits, then the arithmetic path matches toPrecision on a dense grid and near ties', () => {
  const reference = (x: number) => String(Number(x.toPrecision(3)));
  for (let k = 1000; k < 100_000; k++) {
    for (const x of [k / 1000, -k / 1000, k / 1000 + 5e-4, k / 1000 - 5e-4, (k + 0.5) / 1000, k / 1000 + 1e-12]) {
      if (Math.abs(x) >= 1 && Math.abs(x) < 100) assert.equal(shortPrecision3(x), reference(x), String(x));
    }
  }
});
