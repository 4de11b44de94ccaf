/**
 * Which CSV reader fills the FlowTable fastest? `npm run bench:parse [-- <file.csv>] [--rows N] [--runs N]`
 *
 * Without a file, writes a seeded flow CSV in our schema (1,000,000 rows, about 146 MB) to the temp
 * folder. Then reads it into the typed columns with csv-parse, with papaparse (both make strings
 * that an adapter converts, as any library-based reader must) and with our byte-level parser,
 * checks that all three give the same table, and prints the times. Then times an upload's parse:
 * the file pushed in 64 KiB pieces as fast as possible to createThreadedCsvParser, first push to
 * `end` resolved, with one and two parse workers started for it, then with the two workers of the
 * warmed parse pool (src/ingest/pool.ts) as the server uses them (same table checked). Then times
 * the report writers on the same file (every row to the scored dataset, 5 % to the anomaly report).
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';
import { isDeepStrictEqual } from 'node:util';
import { closeParsePool, createThreadedCsvParser, isTextName, isTimeName, parseCsvFile, warmParsePool } from '../src/ingest/index.ts';
import type { Column, FlowTable } from '../src/ingest/types.ts';
import { writeAnomalyReport, writeScoredDataset } from '../src/reports/index.ts';
import type { Explanation } from '../src/detection/types.ts';
import { mulberry32 } from '../src/lib/prng.ts';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ROWS = flag('--rows', 1_000_000);
const RUNS = flag('--runs', 1);
const givenPath = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));

const rng = mulberry32;

const HEADER =
  'bytes_transferred,packet_count,connection_duration,source_port,destination_port,retransmission_rate,timestamp,protocol,bytes_per_packet,packets_per_second,source_ip,destination_ip,label,attack_type';
const ATTACKS = ['ddos', 'data_exfiltration', 'port_scan', 'brute_force', 'beaconing'];
const PROTOCOLS = ['TCP', 'TCP', 'TCP', 'UDP', 'UDP', 'ICMP'];
const SERVICE_PORTS = [80, 443, 443, 53, 22, 25, 3389, 8080, 123, 3306];

async function generate(path: string, rows: number, seed = 42): Promise<void> {
  const r = rng(seed);
  const out = createWriteStream(path);
  const internal = Array.from({ length: 400 }, (_, i) => `192.168.${1 + (i >> 8)}.${(i & 255) + 1}`);
  const external = Array.from(
    { length: 3000 },
    () => `${11 + Math.floor(r() * 200)}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`,
  );
  const start = Date.UTC(2024, 2, 1);
  let parts: string[] = [HEADER];
  for (let i = 0; i < rows; i++) {
    const attack = r() < 0.05 ? ATTACKS[Math.floor(r() * ATTACKS.length)] : 'normal';
    const packets = 1 + Math.floor(r() * (attack === 'ddos' ? 5000 : 400));
    const bpp = 40 + r() * (attack === 'data_exfiltration' ? 1460 : 900);
    const bytes = Math.round(packets * bpp);
    const duration = 0.001 + r() * 120;
    const ts = new Date(start + Math.floor(i * 2.6 + r() * 1000) * 1000).toISOString();
    parts.push(
      `${bytes},${packets},${duration.toFixed(6)},${1024 + Math.floor(r() * 64000)},${
        SERVICE_PORTS[Math.floor(r() * SERVICE_PORTS.length)]
      },${r() * 0.05},${ts.slice(0, 10)} ${ts.slice(11, 19)},${
        PROTOCOLS[Math.floor(r() * PROTOCOLS.length)]
      },${bytes / packets},${packets / duration},${
        internal[Math.floor(r() * internal.length)]
      },${external[Math.floor(r() * external.length)]},${attack === 'normal' ? 0 : 1},${attack}`,
    );
    if (parts.length >= 10000) {
      if (!out.write(`${parts.join('\n')}\n`)) await once(out, 'drain');
      parts = [];
    }
  }
  if (parts.length > 0) out.write(`${parts.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
}

/** What a library-based reader must do after the library: strings → typed columns. */
class StringTableBuilder {
  private header: string[] | null = null;
  private kinds: ('numeric' | 'category' | 'time')[] = [];
  private num: number[][] = [];
  private codes: number[][] = [];
  private dicts: Map<string, number>[] = [];
  rowCount = 0;

  row(fields: string[]): void {
    if (this.header === null) {
      this.header = fields.map((f) => f.trim());
      this.kinds = this.header.map((n) => (isTextName(n) ? 'category' : isTimeName(n) ? 'time' : 'numeric'));
      this.num = this.header.map(() => []);
      this.codes = this.header.map(() => []);
      this.dicts = this.header.map(() => new Map());
      return;
    }
    if (fields.length === 1 && fields[0] === '') return;
    for (let c = 0; c < fields.length; c++) {
      const v = fields[c].trim();
      const k = this.kinds[c];
      if (k === 'numeric') this.num[c].push(v === '' ? NaN : Number(v));
      else if (k === 'time') this.num[c].push(Date.parse(`${v.replace(' ', 'T')}Z`));
      else {
        const d = this.dicts[c];
        let code = d.get(v);
        if (code === undefined) d.set(v, (code = d.size));
        this.codes[c].push(code);
      }
    }
    this.rowCount++;
  }

  columns(): Column[] {
    return (this.header ?? []).map((name, c): Column => {
      const k = this.kinds[c];
      if (k === 'category') return { kind: 'category', name, codes: Int32Array.from(this.codes[c]), dictionary: [...this.dicts[c].keys()] };
      const values = Float64Array.from(this.num[c]);
      return k === 'time'
        ? { kind: 'time', name, values, missing: 0, format: 'iso' }
        : { kind: 'numeric', name, values, missing: 0 };
    });
  }
}

async function readWithCsvParse(path: string): Promise<Column[]> {
  const b = new StringTableBuilder();
  const parser = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(csvParse({ bom: true, relax_column_count: false }));
  for await (const rec of parser) b.row(rec as string[]);
  return b.columns();
}

async function readWithPapaparse(path: string): Promise<Column[]> {
  const b = new StringTableBuilder();
  const text = await readFile(path, 'utf8');
  Papa.parse<string[]>(text, { step: (res) => b.row(res.data) });
  return b.columns();
}

function sameColumns(a: readonly Column[], b: readonly Column[], rows: number): string {
  for (let c = 0; c < a.length; c++) {
    const x = a[c];
    const y = b[c];
    for (let r = 0; r < rows; r++) {
      const vx = x.kind === 'category' ? x.dictionary[x.codes[r]] : x.values[r];
      const vy = y.kind === 'category' ? y.dictionary[y.codes[r]] : y.values[r];
      if (!Object.is(vx, vy)) return `differ at column ${x.name}, row ${r}: ${String(vx)} vs ${String(vy)}`;
    }
  }
  return 'identical';
}

async function time<T>(label: string, fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  let best = Infinity;
  let result: T | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = await fn();
    best = Math.min(best, performance.now() - t0);
  }
  console.log(`${label.padEnd(34)} ${(best / 1000).toFixed(2)} s${RUNS > 1 ? ` (best of ${RUNS})` : ''}`);
  return { result: result as T, ms: best };
}

async function main(): Promise<void> {
  let path = givenPath;
  let made = false;
  if (path === undefined) {
    path = join(tmpdir(), `flowsentry-bench-${ROWS}.csv`);
    if (!existsSync(path)) {
      const t0 = performance.now();
      await generate(path, ROWS);
      console.log(`generated ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      made = true;
    }
  }
  const size = (await stat(path)).size;
  console.log(`input: ${path}, ${(size / 1e6).toFixed(1)} MB`);

  const ours = await time('ours (byte-level, streamed)', () => parseCsvFile(path));
  const table: FlowTable = ours.result;
  console.log(`  ${table.rowCount} rows, ${table.columns.length} columns, ${((size / 1e6) / (ours.ms / 1000)).toFixed(0)} MB/s`);
  const pp = await time('papaparse + typed columns', () => readWithPapaparse(path));
  console.log(`  vs ours: ${sameColumns(table.columns, pp.result, table.rowCount)}`);
  const cp = await time('csv-parse (stream) + typed columns', () => readWithCsvParse(path));
  console.log(`  vs ours: ${sameColumns(table.columns, cp.result, table.rowCount)}`);

  // An upload's parse: pushed while it "arrives" (here: as fast as possible), parsed on workers
  // started for it, then on the warmed pool's workers (as in the server).
  const bytes = await readFile(path);
  const uploadParse = async (label: string, workers: number) => {
    const upload = await time(label, async () => {
      const parser = createThreadedCsvParser({ sizeHint: bytes.length, workers });
      for (let p = 0; p < bytes.length; p += 65536) parser.push(bytes.subarray(p, p + 65536));
      return parser.end(path);
    });
    console.log(`  vs ours: ${isDeepStrictEqual(upload.result, table) ? 'identical' : 'DIFFERENT'}`);
  };
  for (const workers of [1, 2]) await uploadParse(`upload parse, ${workers} new worker${workers > 1 ? 's' : ''}`, workers);
  const warmStart = performance.now();
  await warmParsePool();
  console.log(`(parse pool warmed in ${Math.round(performance.now() - warmStart)} ms)`);
  await uploadParse('upload parse, 2 warm pool workers', 2);
  await closeParsePool();

  // Writers: scores and severities made up, the work is the same.
  const n = table.rowCount;
  const r = rng(7);
  const scores = new Float64Array(n);
  const severity = new Float64Array(n);
  const isAnomaly = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    scores[i] = -0.3 - r() * 0.4;
    severity[i] = r() * 100;
    isAnomaly[i] = severity[i] > 95 ? 1 : 0;
  }
  const rows: number[] = [];
  for (let i = 0; i < n; i++) if (isAnomaly[i] === 1) rows.push(i);
  rows.sort((a, b) => severity[b] - severity[a]);
  const explanations = new Map<number, Explanation>();
  for (const row of rows) {
    explanations.set(row, {
      row,
      contributions: [
        { feature: 'bytes_transferred', value: 1e6, median: 2e4, percentile: 99.5, direction: 'high', weight: 0.6 },
        { feature: 'packet_count', value: 3, median: 150, percentile: 1.2, direction: 'low', weight: 0.4 },
      ],
    });
  }
  const outDir = tmpdir();
  const scoredPath = join(outDir, 'flowsentry-bench-results.csv');
  const reportPath = join(outDir, 'flowsentry-bench-anomalies.csv');
  await time(`scored dataset (${n} rows)`, () =>
    writeScoredDataset({ sourcePath: path, table, outPath: scoredPath, scores, severity, isAnomaly }),
  );
  await time(`anomaly report (${rows.length} rows)`, () =>
    writeAnomalyReport({ sourcePath: path, table, outPath: reportPath, rows, scores, severity, explanations }),
  );
  await rm(scoredPath, { force: true });
  await rm(reportPath, { force: true });
  if (made) console.log(`(kept ${path} for the next run; delete it when done)`);
}

await main();
