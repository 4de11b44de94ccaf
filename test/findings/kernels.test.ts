/**
 * The typed-array kernels findings is built on, each against the simple version it replaces: Map
 * numbering for codes and groups, the native sort, a comparator sort for time order, one row at a
 * time for rule typing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildContext, groupBy, isIdentity, KeyIndex, orderByValueDesc, orderedTimes, pairCodes, quantileOfCounts, quantileSorted, restrictCodes, restrictRows, sortNumbers, timeOrder } from '../../src/findings/context.ts';
import { quantileSorted as detectionQuantile } from '../../src/detection/math.ts';
import type { Context } from '../../src/findings/context.ts';
import { ExplanationIndex } from '../../src/findings/explanations.ts';
import { DEFAULT_BEHAVIOUR, detectBeacons, Hits } from '../../src/findings/behaviour.ts';
import type { PeriodicPattern } from '../../src/findings/types.ts';
import { resolveRules, signatureMatches, typeFlow, typeRows } from '../../src/findings/rules.ts';
import { fmt, shortPrecision3 } from '../../src/findings/format.ts';
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

test('when flows repeat at regular intervals, then the beacon passes over the time order find what grouping each pair does, pattern for pattern', () => {
  const rnd = lcg(61);
  const n = 6000;
  const addresses = Array.from({ length: 40 }, (_, k) => `10.1.0.${k}`);
  const src = new Int32Array(n);
  const dst = new Int32Array(n);
  const dport = new Float64Array(n);
  const bytes = new Float64Array(n);
  const time = new Float64Array(n);
  const start = Date.parse('2024-03-04T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const beacon = i % 5 === 0;
    // Beacons: 12 pairs calling home every 60 s (a few with jitter); the rest random.
    src[i] = rnd() < 0.01 ? -1 : beacon ? i % 12 : 12 + Math.floor(rnd() * 28);
    dst[i] = rnd() < 0.01 ? -1 : beacon ? 39 - (i % 12) : Math.floor(rnd() * 40);
    dport[i] = beacon ? 443 : [80, 443, 22, 8443.5][Math.floor(rnd() * 4)];
    bytes[i] = beacon ? 500 + Math.floor(rnd() * (i % 24 < 12 ? 10 : 400)) : Math.floor(rnd() * 1e5);
    time[i] = rnd() < 0.01 ? NaN : beacon ? start + 60_000 * Math.floor(i / 60) + (i % 3 === 0 ? Math.floor(rnd() * 9000) : 0) : start + Math.floor(rnd() * 86_400_000);
  }
  const ctx = { n, src, dst, dport, time, addresses, metrics: { bytes, packets: null, duration: null, bpp: null, pps: null, retrans: null } } as unknown as Context;
  const order = timeOrder(time);
  for (const beaconMinConnections of [8, 3]) {
    const opts = { ...DEFAULT_BEHAVIOUR, beaconMinConnections };
    const hits = new Hits(n);
    const patterns = detectBeacons(ctx, hits, order, opts);
    // The reference: rows grouped by (source, destination, port & 0xffff) in order of first
    // appearance, each group's rows in time order, statistics per group.
    const groups = new Map<string, number[]>();
    for (const i of order) {
      if (src[i] < 0 || dst[i] < 0 || !Number.isFinite(time[i])) continue;
      const key = `${src[i]} ${dst[i]} ${dport[i] & 0xffff}`;
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(i);
    }
    const firstRow = (rows: number[]) => Math.min(...rows);
    const expected: { pattern: PeriodicPattern; conf: number; reason: string }[] = [];
    for (const rows of [...groups.values()].sort((a, b) => firstRow(a) - firstRow(b))) {
      const m = rows.length;
      if (m < beaconMinConnections) continue;
      const intervals = rows.slice(1).map((r, k) => (time[r] - time[rows[k]]) / 1000);
      let mean = 0;
      for (const v of intervals) mean += v;
      mean /= m - 1;
      if (mean < 5) continue;
      let v = 0;
      for (const x of intervals) v += (x - mean) ** 2;
      const cv = Math.sqrt(v / (m - 1)) / mean;
      if (cv > opts.beaconMaxJitter) continue;
      let bm = 0;
      for (const r of rows) bm += bytes[r];
      bm /= m;
      let bv = 0;
      for (const r of rows) bv += (bytes[r] - bm) ** 2;
      const sizeCv = bm > 0 ? Math.sqrt(bv / m) / bm : 0;
      const sorted = Float64Array.from(intervals).sort();
      const pos = (sorted.length - 1) * 0.5;
      const median = sorted[Math.floor(pos)] + (sorted[Math.min(sorted.length - 1, Math.floor(pos) + 1)] - sorted[Math.floor(pos)]) * (pos - Math.floor(pos));
      const first = rows[0];
      const conf = Math.min(0.97, 0.65 + 0.2 * (1 - cv / opts.beaconMaxJitter) + (sizeCv < 0.3 ? 0.1 : 0) + 0.02 * Math.log2(m / beaconMinConnections));
      const every = median < 90 ? `${Math.round(median)} s` : median < 5400 ? `${Math.round(median / 60)} min` : `${(median / 3600).toFixed(1)} h`;
      const reason = `${m} connections from ${addresses[src[first]]} to ${addresses[dst[first]]}:${dport[first]} every ${every} with ${(cv * 100).toFixed(1)} % jitter and ${sizeCv < 0.3 ? 'similar' : 'varied'} sizes (size variation ${(sizeCv * 100).toFixed(0)} %)`;
      const pattern = { sourceIp: addresses[src[first]], destinationIp: addresses[dst[first]], destinationPort: dport[first], connections: m, intervalSeconds: Math.round(median * 1000) / 1000, jitter: Math.round(cv * 10000) / 10000, rows };
      expected.push({ pattern, conf, reason });
    }
    assert.ok(expected.length >= 8, `beacons in the data: ${expected.length}`);
    const sorted = expected.map((e) => e.pattern).sort((x, y) => x.jitter - y.jitter || y.connections - x.connections);
    assert.deepEqual(patterns, sorted, `patterns, min ${beaconMinConnections}`);
    assert.deepEqual(hits.reasons.map((r) => r.text), expected.map((e) => e.reason), 'reasons in group order');
    for (const [k, e] of expected.entries()) {
      for (const r of e.pattern.rows) {
        assert.equal(hits.reason(r), k, `row ${r}`);
        assert.equal(hits.confidence(r), Math.fround(e.conf), `confidence of row ${r}`);
      }
    }
  }
});

test("when findings take a quantile, then it is the detector's numpy-exact linear quantile, with q clamped to [0, 1]", () => {
  // numpy.quantile([3.7, 3.8, 14.1], 0.95) is 13.069999999999999; a + (b - a) g, findings' own formula before, gave 13.07.
  assert.equal(quantileSorted([3.7, 3.8, 14.1], 0.95), 13.069999999999999);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.9), 3.7);
  const rnd = lcg(71);
  for (let t = 0; t < 2000; t++) {
    const sorted = Array.from({ length: 1 + Math.floor(rnd() * 20) }, () => Math.round(rnd() * 1e4) / 100).sort((a, b) => a - b);
    const q = rnd();
    assert.equal(quantileSorted(sorted, q), detectionQuantile(sorted, q), `${JSON.stringify(sorted)} at ${q}`);
  }
  assert.equal(quantileSorted([1, 5, 9], 1.5), 9, 'a rule may name a quantile above 1');
  assert.equal(quantileSorted([1, 5, 9], -0.5), 1);
  assert.ok(Number.isNaN(quantileSorted([], 0.5)));
});

test('when the baseline or a count median is asked for, then it equals the quantile of the sorted values', () => {
  // Fewer rows than the baseline's sample: the sample is every finite value.
  const table = trafficToFlowTable(generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 6, rows: 3000, seed: 12 }));
  const ctx = buildContext(table);
  for (const metric of ['bytes', 'packets', 'duration', 'bpp', 'pps'] as const) {
    const sorted = Float64Array.from(ctx.metrics[metric]!.filter(Number.isFinite)).sort();
    for (const q of [0, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 1]) assert.equal(ctx.baseline.q(metric, q), detectionQuantile(sorted, q), `${metric} at ${q}`);
    assert.equal(ctx.baseline.q(metric, 1.5), sorted[sorted.length - 1], `${metric} above 1 is the maximum`);
    assert.equal(ctx.baseline.q(metric, -1), sorted[0], `${metric} below 0 is the minimum`);
  }
  const rnd = lcg(5);
  for (const [n, most] of [[1, 3], [2, 10], [31, 40], [1000, 7], [500, 1e6]]) {
    const counts = Int32Array.from({ length: n }, () => Math.floor(rnd() * most));
    const sorted = Float64Array.from(counts).sort();
    for (const q of [0, 0.3, 0.5, 0.75, 1]) assert.equal(quantileOfCounts(counts, q), detectionQuantile(sorted, q), `${n} counts below ${most} at ${q}`);
  }
  assert.ok(Number.isNaN(quantileOfCounts(new Int32Array(0), 0.5)));
});

test('when rows are already in time order, then the time order is the identity, and only then', () => {
  const base = Date.parse('2024-03-04T00:00:00Z');
  const cases: [number[], boolean][] = [
    [[base, base, base + 1000, base + 1500, NaN, NaN], true],
    [[base, NaN, base + 1000], false], // a missing time before a later one
    [[base + 1000, base, base + 2000], false],
    [[base, base + 0.5, Infinity, NaN], true],
    [[-Infinity, base], false], // -Infinity counts as missing, so it sorts last
  ];
  for (const [times, identity] of cases) {
    const time = Float64Array.from(times);
    const order = timeOrder(time);
    const key = (i: number) => (Number.isFinite(time[i]) ? time[i] : Infinity);
    assert.deepEqual(Array.from(order), times.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b), JSON.stringify(times));
    assert.equal(isIdentity(order), identity, JSON.stringify(times));
    if (identity) assert.equal(orderedTimes(time, order), time, 'the time column itself');
  }
});
