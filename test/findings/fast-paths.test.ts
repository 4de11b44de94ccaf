import { test } from 'node:test';
import assert from 'node:assert/strict';
import { denseCodesOf, KeyIndex, timeOrder } from '../../src/findings/context.ts';
import { fmt, groupThousands, shortPrecision3 } from '../../src/findings/format.ts';
import { analyzeFindings } from '../../src/findings/index.ts';
import type { FindingsInput } from '../../src/findings/types.ts';
import type { Explanation } from '../../src/detection/types.ts';
import type { Column, FlowTable } from '../../src/ingest/types.ts';

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
  for (const span of [1000, 86_400_000, 2 ** 40, 2 ** 52]) {
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

test('when a number is written with three significant digits, then fmt matches String(Number(x.toPrecision(3)))', () => {
  const rnd = lcg(17);
  const values = [0, -0, 1, -1, 99.95, 99.949, 99.96, -99.96, 1e-6, 9.995e-7, 9.996e-7, 1e-7, -1.2e-7, 5e-324, -5e-324, 2.2e-308, 1e-295, 0.000123, 2.675, 1.005, 150.5, -2500.5, 1e21, Infinity, -Infinity, NaN];
  for (let k = 0; k < 100_000; k++) {
    const x = (rnd() < 0.5 ? -1 : 1) * rnd() * 10 ** (rnd() * 40 - 37);
    values.push(x, Math.round(x * 1000) / 1000, Math.round(x * 10) / 10);
  }
  const reference = (x: number) => (!Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? groupThousands(Math.round(x)) : String(Number(x.toPrecision(3))));
  for (const x of values) assert.equal(fmt(x), reference(x), String(x));
  for (const x of values) if (Number.isFinite(x) && Math.abs(x) < 100) assert.equal(shortPrecision3(x), String(Number(x.toPrecision(3))), String(x));
});

/** A small flow table from rows (addresses, port, packets, bytes, seconds since a fixed start). */
function flowTable(rows: readonly { src: string; dst: string; dport: number; packets: number; bytes: number; at: number }[]): FlowTable {
  const n = rows.length;
  const dict = (values: string[]) => {
    const dictionary = [...new Set(values)];
    return { codes: Int32Array.from(values, (v) => dictionary.indexOf(v)), dictionary };
  };
  const num = (name: string, f: (r: (typeof rows)[number]) => number): Column => ({ kind: 'numeric', name, values: Float64Array.from(rows, f), missing: 0 });
  const start = Date.parse('2024-03-04T00:00:00Z');
  return {
    rowCount: n,
    columns: [
      { kind: 'time', name: 'timestamp', values: Float64Array.from(rows, (r) => start + r.at * 1000), missing: 0, format: 'iso' },
      { kind: 'category', name: 'source_ip', ...dict(rows.map((r) => r.src)) },
      { kind: 'category', name: 'destination_ip', ...dict(rows.map((r) => r.dst)) },
      num('destination_port', (r) => r.dport),
      { kind: 'category', name: 'protocol', ...dict(rows.map(() => 'TCP')) },
      num('bytes_transferred', (r) => r.bytes),
      num('packet_count', (r) => r.packets),
      num('connection_duration', () => 0.5),
    ],
    header: [],
    rowOffsets: new Float64Array(n + 1),
    lineNumbers: new Int32Array(n),
    warnings: [],
  };
}

function scanInput() {
  const rows: { src: string; dst: string; dport: number; packets: number; bytes: number; at: number }[] = [];
  // Ordinary traffic: many clients, a few ports; DNS lookups are small flows too.
  for (let k = 0; k < 400; k++) {
    const dns = k % 3 === 2;
    rows.push({ src: `10.0.1.${k % 50}`, dst: `10.0.2.${k % 7}`, dport: [80, 443, 53][k % 3], packets: dns ? 2 : 20 + (k % 9), bytes: dns ? 150 : 5000 + 37 * k, at: 10 * k });
  }
  // 10.0.9.9 probes 60 ports of 10.0.2.1 in a minute; the host answers some probes with one packet.
  for (let p = 0; p < 60; p++) {
    rows.push({ src: '10.0.9.9', dst: '10.0.2.1', dport: 1000 + p, packets: 1, bytes: 60, at: 100 + p });
    if (p % 3 === 0) rows.push({ src: '10.0.2.1', dst: '10.0.9.9', dport: 40000 + p, packets: 1, bytes: 54, at: 100.5 + p });
  }
  // A real session from the host back to the scanner is no reply to a probe.
  rows.push({ src: '10.0.2.1', dst: '10.0.9.9', dport: 40100, packets: 30, bytes: 20000, at: 300 });
  const table = flowTable(rows);
  const n = rows.length;
  const input: FindingsInput = { table, features: [], scores: new Float64Array(n), isAnomaly: new Uint8Array(n), severity: new Float64Array(n).fill(20), explanations: new Map<number, Explanation>() };
  return { rows, input };
}

test('when a host is scanned, then its small replies to the scanner join the scan and a real session does not', () => {
  const { rows, input } = scanInput();
  const f = analyzeFindings(input, { now: 0 });
  rows.forEach((r, i) => {
    const finding = f.flows.get(i);
    if (r.src === '10.0.9.9') assert.equal(finding?.type, 'port_scan', `probe ${i}`);
    else if (r.src === '10.0.2.1' && r.dst === '10.0.9.9' && r.packets <= 3) {
      assert.equal(finding?.type, 'port_scan', `reply ${i}`);
      assert.match(finding!.reason, /^reply from the scanned host 10\.0\.2\.1 to the scanner 10\.0\.9\.9/);
    } else assert.equal(finding, undefined, `row ${i}`);
  });
  const scan = f.incidents.find((inc) => inc.type === 'port_scan')!;
  assert.equal(scan.flowCount, 80);
  assert.equal(scan.sourceIps[0], '10.0.9.9');
});

test('when findings are read as a Map, then get, has, size, iteration and forEach agree with a Map of the same entries', () => {
  const { input } = scanInput();
  const f = analyzeFindings(input, { now: 0 });
  const entries = [...f.flows];
  const map = new Map(entries);
  assert.equal(f.flows.size, map.size);
  assert.ok(map.size > 0, 'the scan has findings');
  assert.deepEqual([...f.flows.keys()], [...map.keys()]);
  assert.deepEqual([...f.flows.keys()], [...map.keys()].sort((a, b) => a - b), 'row order');
  assert.deepEqual([...f.flows.values()], [...map.values()]);
  assert.deepEqual([...f.flows.entries()], entries);
  for (let row = -2; row < input.table.rowCount + 2; row++) {
    assert.equal(f.flows.get(row), map.get(row), `get ${row}`);
    assert.equal(f.flows.has(row), map.has(row), `has ${row}`);
  }
  for (const key of [0.5, NaN, Infinity, -0]) assert.equal(f.flows.get(key), map.get(key), `get ${key}`);
  for (const [row, finding] of entries) {
    assert.equal(finding.row, row);
    assert.equal(f.flows.get(row), finding, 'the same object every time');
    assert.ok(f.incidents.some((inc) => inc.id === finding.incidentId && inc.rows.includes(row)), `incident of row ${row}`);
  }
  const seen: number[] = [];
  f.flows.forEach((value, key, m) => {
    assert.equal(m, f.flows);
    assert.equal(value, map.get(key));
    seen.push(key);
  });
  assert.deepEqual(seen, [...map.keys()]);
  assert.equal(JSON.stringify({ flows: f.flows }), JSON.stringify({ flows: map }));
});

test('when times have fractional milliseconds (Zeek-style epochs) or include epoch 0, then the order is a stable sort with missing times last', () => {
  const cases: number[][] = [
    [1000.5, 1000.25, 1000.75, 999.5],
    [1_700_000_000_123.456, NaN, 1_700_000_000_123.455, 1_700_000_000_000.5, 1_700_000_000_123.456],
    [5.5, 0, NaN, -Infinity, 0, 2.25],
  ];
  for (const times of cases) {
    const time = Float64Array.from(times);
    const key = (i: number) => (Number.isFinite(time[i]) ? time[i] : Infinity);
    const expected = times.map((_, i) => i).sort((a, b) => key(a) - key(b) || a - b);
    assert.deepEqual(Array.from(timeOrder(time)), expected, JSON.stringify(times));
  }
});

test('when there are hundreds of thousands of addresses, then repeat counts keep (source, destination, port) apart exactly', async () => {
  const { repeatCount } = await import('../../src/findings/rules.ts');
  const addresses = Array.from({ length: 400_000 }, (_, i) => `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
  // Rows 0 and 1 differ only by port: (src * 400000 + dst) * 65536 + port passes 2^53 here, where
  // ports 20 and 21 rounded to the same key. Rows 2 and 3 share everything.
  const ctx = {
    n: 4,
    src: Int32Array.from([399_999, 399_999, 5, 5]),
    dst: Int32Array.from([399_998, 399_998, 7, 7]),
    dport: Float64Array.from([20, 21, 443, 443]),
    addresses,
  } as unknown as Parameters<typeof repeatCount>[0];
  assert.deepEqual([0, 1, 2, 3].map((r) => repeatCount(ctx, r)), [1, 1, 2, 2]);
});
