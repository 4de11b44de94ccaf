import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CSV_HEADER, generateTraffic, trafficToCsv, trafficToFlowTable, writeTrafficCsv } from '../../src/generator/index.ts';
import { parseGenerateArgs, UsageError } from '../../scripts/generate.ts';

const start = new Date('2024-01-01T00:00:00Z');
const run = promisify(execFile);

test('when the same seed is used twice, then the bytes are identical; another seed differs', () => {
  const a = trafficToCsv(generateTraffic({ start, hours: 6, seed: 7, flowsPerHour: 300 }));
  const b = trafficToCsv(generateTraffic({ start, hours: 6, seed: 7, flowsPerHour: 300 }));
  const c = trafficToCsv(generateTraffic({ start, hours: 6, seed: 8, flowsPerHour: 300 }));
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('when traffic is written, then the header and every row follow the schema and invariants', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gen-'));
  try {
    const path = join(dir, 'flows.csv');
    const summary = await writeTrafficCsv({ start, hours: 24, flowsPerHour: 400, seed: 3 }, path);
    await assert.rejects(stat(path + '.tmp'));
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    assert.deepEqual(lines[0].split(','), [...CSV_HEADER]);
    assert.equal(lines.length - 1, 9600);
    assert.equal(summary.records, 9600);
    assert.equal(summary.anomalies, 480);
    let previous = '';
    const types = new Set<string>();
    for (const line of lines.slice(1)) {
      const f = line.split(',');
      assert.equal(f.length, 14);
      const [bytes, packets, duration, sport, dport, retr] = f.slice(0, 6).map(Number);
      const bpp = Number(f[8]);
      const pps = Number(f[9]);
      assert.ok(Number.isInteger(packets) && packets >= 1, line);
      assert.ok(Number.isInteger(bytes) && bytes >= 0, line);
      assert.ok(duration > 0, line);
      assert.ok(Number.isInteger(sport) && sport >= 0 && sport <= 65535);
      assert.ok(Number.isInteger(dport) && dport >= 0 && dport <= 65535);
      assert.ok(retr >= 0 && retr <= 1);
      assert.ok(Math.abs(bpp - bytes / packets) < 1e-4, line);
      assert.ok(Math.abs(pps - packets / duration) <= 1e-4 * Math.max(1, pps), line);
      assert.match(f[6], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.ok(f[6] >= previous, 'rows are in time order');
      previous = f[6];
      assert.ok(['TCP', 'UDP', 'ICMP'].includes(f[7]));
      assert.match(f[10], /^\d+\.\d+\.\d+\.\d+$/);
      assert.equal(f[12], f[13] === 'normal' ? '0' : '1');
      types.add(f[13]);
      if (f[13] === 'normal' && f[7] !== 'ICMP') assert.ok(sport >= 32768, 'ephemeral source port');
    }
    assert.deepEqual([...types].sort(), ['beaconing', 'brute_force', 'data_exfiltration', 'ddos', 'normal', 'port_scan']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('when traffic spans days, then day hours are busier than night hours', () => {
  const t = generateTraffic({ start, hours: 72, flowsPerHour: 300, anomalyShare: 0 });
  let day = 0;
  let night = 0;
  for (let i = 0; i < t.rows; i++) {
    const h = new Date(t.timestamp[i]).getUTCHours();
    if (h >= 10 && h < 18) day++;
    if (h >= 0 && h < 6) night++;
  }
  // 8 day hours vs 6 night hours: per hour, day must be at least twice as busy.
  assert.ok(day / 8 > 2 * (night / 6), `day ${day}, night ${night}`);
  assert.equal(t.rows, 21600);
  assert.equal(t.label.reduce((s, x) => s + x, 0), 0);
});

test('when an anomaly share is asked, then each attack type gets its share and episodes', () => {
  const t = generateTraffic({ start, hours: 24, rows: 20000, anomalyShare: 0.1, seed: 11 });
  const counts = new Map<string, number>();
  for (let i = 0; i < t.rows; i++) counts.set(t.attackTypes[t.attackType[i]], (counts.get(t.attackTypes[t.attackType[i]]) ?? 0) + 1);
  assert.equal(counts.get('normal'), 18000);
  for (const type of ['ddos', 'data_exfiltration', 'port_scan', 'brute_force', 'beaconing']) assert.equal(counts.get(type), 400, type);
  assert.ok(t.episodes.length >= 5);
  for (const e of t.episodes) {
    assert.ok(e.start >= t.startMs && e.end <= t.endMs + 1000, `${e.type} within the window`);
  }
  // Attack shapes: DDoS many sources to one target; scan one source; exfiltration large.
  const code = (name: string) => t.attackTypes.indexOf(name);
  const ddosSources = new Set<number>();
  const ddosTargets = new Set<number>();
  let exfilMin = Infinity;
  for (let i = 0; i < t.rows; i++) {
    if (t.attackType[i] === code('ddos')) {
      ddosSources.add(t.sourceIp[i]);
      ddosTargets.add(t.destinationIp[i]);
    }
    if (t.attackType[i] === code('data_exfiltration')) exfilMin = Math.min(exfilMin, t.bytes[i]);
  }
  assert.ok(ddosSources.size >= 50);
  assert.equal(ddosTargets.size, 1);
  assert.ok(exfilMin > 5e6);
});

test('when the flow table is built directly, then it matches the CSV offsets', () => {
  const t = generateTraffic({ start, hours: 1, rows: 50, seed: 5 });
  const csv = trafficToCsv(t);
  const table = trafficToFlowTable(t);
  assert.equal(table.rowCount, 50);
  assert.equal(table.rowOffsets[50], Buffer.byteLength(csv));
  const row3 = csv.slice(table.rowOffsets[3], table.rowOffsets[4]);
  assert.equal(row3, csv.split('\n')[4] + '\n');
});

test('when CLI arguments are parsed, then good ones give options and bad ones a UsageError', () => {
  const ok = parseGenerateArgs(['--start', '2024-01-01T00:00:00Z', '--hours', '2', '--out', 'x.csv', '--seed', '9', '--rows', '100']);
  assert.equal(ok.help, false);
  if (!ok.help) {
    assert.equal(ok.options.seed, 9);
    assert.equal(ok.options.rows, 100);
    assert.equal(ok.options.hours, 2);
  }
  assert.deepEqual(parseGenerateArgs(['--help']), { help: true });
  const bad: string[][] = [
    ['--hours', '2', '--out', 'x.csv'],
    ['--start', 'yesterday', '--hours', '2', '--out', 'x.csv'],
    ['--start', '2024-01-01', '--hours', '0', '--out', 'x.csv'],
    ['--start', '2024-01-01', '--hours', '2', '--out', 'x.csv', '--anomaly-share', '0.9'],
    ['--start', '2024-01-01', '--hours', '2', '--out', 'x.csv', '--rows', '10', '--flows-per-hour', '5'],
    ['--start', '2024-01-01', '--hours', '2', '--out', 'x.csv', '--bogus'],
  ];
  for (const args of bad) assert.throws(() => parseGenerateArgs(args), UsageError, args.join(' '));
});

test('when the CLI runs, then it writes the file and exits 0; bad arguments exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gen-cli-'));
  try {
    const out = join(dir, 'f.csv');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', '--start', '2024-01-01T00:00:00Z', '--hours', '1', '--rows', '200', '--out', out]);
    assert.match(stdout, /wrote 200 flows/);
    assert.equal((await readFile(out, 'utf8')).trimEnd().split('\n').length, 201);
    await assert.rejects(run(process.execPath, ['--import', 'tsx', 'scripts/generate.ts', '--hours', '1', '--out', out]), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 2);
      assert.match(err.stderr, /--start is required/);
      return true;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no Math.random in the generator', async () => {
  for (const f of ['prng.ts', 'traffic.ts', 'profiles.ts', 'csv.ts', 'options.ts']) {
    const text = await readFile(new URL(`../../src/generator/${f}`, import.meta.url), 'utf8');
    assert.ok(!text.includes('Math.random'), f);
  }
});
