import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFindings, prepareFindings, TYPING_RULES } from '../../src/findings/index.ts';
import type { Findings, FindingsInput, TimeBucket } from '../../src/findings/types.ts';
import { buildContext, timeOrder } from '../../src/findings/context.ts';
import { rateTotals } from '../../src/findings/support.ts';
import { analyzeTime, timeline } from '../../src/findings/time.ts';
import type { Explanation } from '../../src/detection/types.ts';
import { closeScorePool } from '../../src/detection/index.ts';
import type { CategoryColumn, Column, FlowTable } from '../../src/ingest/types.ts';
import { generateTraffic, trafficToFlowTable } from '../../src/generator/index.ts';
import { runQuality } from '../../scripts/findings-quality.ts';

after(() => closeScorePool());

const NOW = Date.parse('2024-03-05T00:00:00Z');
const FEATURES = ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second'];

/** A small seeded generator (tests only). */
function lcg(seed: number) {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

/** Everything a caller can see of the findings, as plain data (the flows Map as its entries). */
function plain(f: Findings) {
  return { flows: [...f.flows.entries()], incidents: f.incidents, time: f.time, recommendations: f.recommendations };
}

/**
 * Generated traffic with the labels (and some other rows) as the detector's anomalies, each with an
 * explanation naming two of its features: the typing's signature bonus and the evidence read them.
 */
function generatedInput(seed: number, rows: number): FindingsInput {
  const t = generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 24, rows, seed, anomalyShare: 0.05 });
  const table = trafficToFlowTable(t);
  const rnd = lcg(seed + 1);
  const n = t.rows;
  const isAnomaly = Uint8Array.from(t.label, (l) => (l === 1 || rnd() < 0.02 ? 1 : 0));
  const scores = Float64Array.from(isAnomaly, (a) => (a ? -0.6 - 0.2 * rnd() : -0.4 + 0.1 * rnd()));
  const severity = Float64Array.from(scores, (s) => Math.min(100, Math.max(0, 50 + (-0.5 - s) * 200)));
  const explanations = new Map<number, Explanation>();
  const column = (name: string) => (table.columns.find((c) => c.name === name) as { values: Float64Array }).values;
  for (let i = 0; i < n; i++) {
    if (!isAnomaly[i]) continue;
    const first = FEATURES[Math.floor(rnd() * FEATURES.length)];
    const second = FEATURES[Math.floor(rnd() * FEATURES.length)];
    const contribution = (feature: string, weight: number) => {
      const high = rnd() < 0.6;
      return { feature, value: column(feature)[i], median: 1, percentile: high ? 95 + 5 * rnd() : 5 * rnd(), direction: high ? ('high' as const) : ('low' as const), weight };
    };
    explanations.set(i, { row: i, contributions: [contribution(first, 0.6), contribution(second, 0.4)] });
  }
  return { table, features: FEATURES, scores, isAnomaly, severity, explanations };
}

/** The input with some columns left out (by name). */
function without(input: FindingsInput, ...names: string[]): FindingsInput {
  return { ...input, table: { ...input.table, columns: input.table.columns.filter((c) => !names.includes(c.name)) } };
}

/** The input with its rows in another order (every row-indexed array and the explanations' rows permuted). */
function shuffled(input: FindingsInput, seed: number): FindingsInput {
  const n = input.table.rowCount;
  const rnd = lcg(seed);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const newRow = new Int32Array(n);
  perm.forEach((old, k) => (newRow[old] = k));
  const take = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(n);
    for (let k = 0; k < n; k++) out[k] = a[perm[k]];
    return out;
  };
  const columns = input.table.columns.map((c): Column => (c.kind === 'category' ? { ...c, codes: take(c.codes) } : { ...c, values: take(c.values) }));
  const explanations = new Map<number, Explanation>();
  for (const [row, e] of [...input.explanations].sort((a, b) => newRow[a[0]] - newRow[b[0]])) explanations.set(newRow[row], { ...e, row: newRow[row] });
  return { ...input, table: { ...input.table, columns }, scores: take(input.scores), isAnomaly: take(input.isAnomaly), severity: take(input.severity), explanations };
}

/** The input with gaps: missing times and addresses, fractional (Zeek-style) times, a fractional and a missing port. */
function ragged(input: FindingsInput, seed: number): FindingsInput {
  const rnd = lcg(seed);
  const columns = input.table.columns.map((c): Column => {
    if (c.kind === 'time') return { ...c, values: c.values.map((t) => (rnd() < 0.02 ? NaN : t + Math.floor(rnd() * 1000) + 0.25)) };
    if (c.kind === 'category' && (c.name === 'source_ip' || c.name === 'destination_ip')) return { ...c, codes: c.codes.map((v) => (rnd() < 0.01 ? -1 : v)) } as CategoryColumn;
    if (c.kind === 'numeric' && c.name === 'destination_port') return { ...c, values: c.values.map((p) => (rnd() < 0.003 ? NaN : rnd() < 0.003 ? p + 0.5 : p)) };
    return c;
  });
  return { ...input, table: { ...input.table, columns } };
}

function assertSameWithPrelude(input: FindingsInput, label: string): void {
  const expected = plain(analyzeFindings(input, { now: NOW }));
  const prelude = prepareFindings({ table: input.table });
  assert.deepStrictEqual(plain(analyzeFindings({ ...input, prelude }, { now: NOW })), expected, `${label}: with a prelude`);
  // A prelude is only read: a second analysis with it gives the same again.
  assert.deepStrictEqual(plain(analyzeFindings({ ...input, prelude }, { now: NOW })), expected, `${label}: the prelude again`);
}

test('when analyzeFindings is given a prelude, then its findings are deep-equal to the findings it makes without one, on varied tables', () => {
  const base = generatedInput(31, 12_000);
  const cases: [string, FindingsInput][] = [
    ['generated', base],
    ['rows out of time order', shuffled(base, 5)],
    ['missing times, addresses and ports; fractional times', ragged(base, 9)],
    ['no time column', without(base, 'timestamp')],
    ['no addresses', without(base, 'source_ip', 'destination_ip')],
    ['no time and no addresses', without(base, 'timestamp', 'source_ip', 'destination_ip')],
    ['no ports, protocol or packet counts', without(base, 'destination_port', 'source_port', 'protocol', 'packet_count', 'packets_per_second')],
    ['bytes per packet and packet rate derived', without(base, 'bytes_per_packet', 'packets_per_second')],
    ['another day', generatedInput(77, 6_000)],
  ];
  for (const [label, input] of cases) assertSameWithPrelude(input, label);
  // The cases find something to compare: behaviour hits, typed flows, incidents.
  const f = analyzeFindings(base, { now: NOW });
  assert.ok(f.incidents.length >= 5 && f.time.available && f.time.periodic.length > 0, 'the generated case has incidents and beacons');
  assert.ok([...f.flows.values()].some((x) => x.source === 'behaviour') && [...f.flows.values()].some((x) => x.source === 'detector'));
  assert.equal(analyzeFindings(without(base, 'timestamp'), { now: NOW }).time.available, false);
});

test('when the real detector scores the traffic, then findings with the prelude made before the fit equal findings without it', async () => {
  // runQuality prepares the prelude before AnomalyModel.fit, as the pipeline does, and passes it on.
  const run = await runQuality({ seed: 3, rows: 8000, hours: 24, share: 0.05 });
  assert.equal(run.input.prelude, undefined, 'the returned input is the plain one');
  assert.deepStrictEqual(plain(run.findings), plain(analyzeFindings(run.input, { now: NOW })));
});

test('when a prelude was made from another table or with other behaviour options, then analyzeFindings refuses it; other rules are resolved again', () => {
  const input = generatedInput(12, 4_000);
  const prelude = prepareFindings({ table: input.table });
  const copy = { ...input.table };
  assert.throws(() => analyzeFindings({ ...input, table: copy, prelude }, { now: NOW }), /prelude was prepared from another table/);
  assert.throws(() => analyzeFindings({ ...input, prelude }, { now: NOW, behaviour: { floodWindowSeconds: 30 } }), /behaviour\.floodWindowSeconds = 60, the analysis asks for 30/);
  // Options equal to the defaults, written out, are the same options.
  assert.doesNotThrow(() => analyzeFindings({ ...input, prelude }, { now: NOW, behaviour: { beaconMinConnections: 8 } }));
  const slow = prepareFindings({ table: input.table }, { behaviour: { floodWindowSeconds: 30 } });
  assert.deepStrictEqual(
    plain(analyzeFindings({ ...input, prelude: slow }, { now: NOW, behaviour: { floodWindowSeconds: 30 } })),
    plain(analyzeFindings(input, { now: NOW, behaviour: { floodWindowSeconds: 30 } })),
  );
  const rules = TYPING_RULES.filter((r) => r.id !== 'flood');
  assert.deepStrictEqual(plain(analyzeFindings({ ...input, prelude }, { now: NOW, rules })), plain(analyzeFindings(input, { now: NOW, rules })));
  const ruled = prepareFindings({ table: input.table }, { rules });
  assert.deepStrictEqual(plain(analyzeFindings({ ...input, prelude: ruled }, { now: NOW })), plain(analyzeFindings(input, { now: NOW })));
});

/** The time analysis' counts the simple way: every row, in row order, into its bucket, hour and day. */
function referenceCounts(time: Float64Array, flagged: Uint8Array) {
  let min = Infinity;
  let max = -Infinity;
  for (const t of time) {
    if (!Number.isFinite(t)) continue;
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  const bucketMs = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000].find((b) => (max - min + 1) / b <= 240) ?? 604_800_000;
  const origin = Math.floor(min / bucketMs) * bucketMs;
  const buckets = new Map<number, { flows: number; anomalies: number }>();
  const hours = Array.from({ length: 24 }, (_, hour) => ({ hour, flows: 0, anomalies: 0 }));
  const days = new Map<string, { flows: number; anomalies: number }>();
  for (let b = 0; b <= Math.floor((max - origin) / bucketMs); b++) buckets.set(origin + b * bucketMs, { flows: 0, anomalies: 0 });
  time.forEach((t, i) => {
    if (!Number.isFinite(t)) return;
    const day = new Date(t).toISOString().slice(0, 10);
    if (!days.has(day)) days.set(day, { flows: 0, anomalies: 0 });
    for (const c of [buckets.get(origin + Math.floor((t - origin) / bucketMs) * bucketMs)!, hours[new Date(t).getUTCHours()], days.get(day)!]) {
      c.flows++;
      c.anomalies += flagged[i];
    }
  });
  return {
    bucketMs,
    buckets: [...buckets].map(([start, c]) => ({ start, ...c })),
    byHourOfDay: hours,
    byDay: [...days].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([day, c]) => ({ day, ...c })),
  };
}

test('when the timeline is made from the times alone and the anomalies added from the flagged rows, then the counts are those of every row counted the simple way', () => {
  const rnd = lcg(23);
  const start = Date.parse('2024-03-04T00:00:00Z');
  for (const [span, n] of [
    [3_600_000, 5000],
    [3 * 86_400_000, 20_000],
    [40 * 86_400_000, 8000],
    [0, 50],
  ] as const) {
    for (const sorted of [true, false]) {
      const time = new Float64Array(n).map(() => (rnd() < 0.03 ? NaN : start + Math.floor(rnd() * span) + (rnd() < 0.2 ? 0.5 : 0)));
      if (sorted) time.sort();
      const flagged = Uint8Array.from(time, () => (rnd() < 0.1 ? 1 : 0));
      const flaggedRows = Int32Array.from(flagged.keys()).filter((i) => flagged[i] === 1);
      const t = analyzeTime(timeline(time, timeOrder(time)), time, flaggedRows, []);
      const expected = referenceCounts(time, flagged);
      const label = `span ${span}, ${sorted ? 'in time order' : 'unordered'}`;
      assert.equal(t.available, true, label);
      assert.equal(t.bucketMs, expected.bucketMs, label);
      assert.deepStrictEqual(t.buckets, expected.buckets, label);
      assert.deepStrictEqual(t.byHourOfDay, expected.byHourOfDay, label);
      assert.deepStrictEqual(t.byDay, expected.byDay, label);
      for (const b of t.bursts) {
        const inside: readonly TimeBucket[] = t.buckets.filter((x) => x.start >= b.start && x.start < b.end);
        assert.equal(b.flows, inside.reduce((s, x) => s + x.flows, 0), label);
        assert.equal(b.anomalies, inside.reduce((s, x) => s + x.anomalies, 0), label);
      }
    }
  }
  const missing = Float64Array.of(NaN, NaN);
  assert.equal(timeline(missing, timeOrder(missing)), null);
  assert.equal(analyzeTime(null, missing, Int32Array.of(0), []).available, false);
});

test("when rate totals are summed in one pass, then each target's total is its own rows' packets (1 when missing or not positive) with a time, added in row order", () => {
  const input = ragged(generatedInput(8, 6000), 4);
  const packets = input.table.columns.find((c) => c.name === 'packet_count') as { values: Float64Array };
  packets.values[3] = NaN;
  packets.values[4] = 0;
  packets.values[5] = -2;
  const ctx = buildContext(input.table);
  const totals = rateTotals(ctx)!;
  const time = ctx.time!;
  const weight = (i: number) => (Number.isFinite(packets.values[i]) && packets.values[i] > 0 ? packets.values[i] : 1);
  for (let a = 0; a < ctx.addresses.length; a++) {
    let sum = 0;
    for (let i = 0; i < ctx.n; i++) if (ctx.dst![i] === a && Number.isFinite(time[i])) sum += weight(i);
    assert.equal(totals.perAddress![a], sum, `address ${ctx.addresses[a]}`);
  }
  const ports = new Map<number, number>();
  for (let i = 0; i < ctx.n; i++) {
    const p = ctx.dport![i];
    if (Number.isInteger(p) && p >= 0 && p <= 65535 && Number.isFinite(time[i])) ports.set(p, (ports.get(p) ?? 0) + weight(i));
  }
  for (let p = 0; p < 65536; p++) assert.equal(totals.perPort![p], ports.get(p) ?? 0, `port ${p}`);
  assert.equal(rateTotals(buildContext(without(input, 'timestamp').table)), null);
  const noAddresses = rateTotals(buildContext(without(input, 'source_ip', 'destination_ip').table))!;
  assert.equal(noAddresses.perAddress, null);
  assert.deepStrictEqual(noAddresses.perPort, totals.perPort);
});

test("when a prelude is made, then it reads the table's own columns, not copies", () => {
  const input = generatedInput(2, 5000);
  const table: FlowTable = input.table;
  const prelude = prepareFindings({ table });
  assert.equal(prelude.table, table);
  const bytes = table.columns.find((c) => c.name === 'bytes_transferred') as { values: Float64Array };
  assert.equal(prelude.ctx.metrics.bytes, bytes.values, 'a metric is the column itself');
  assert.equal(prelude.ctx.time, (table.columns.find((c) => c.kind === 'time') as { values: Float64Array }).values);
});
