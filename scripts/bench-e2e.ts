/**
 * End-to-end benchmark: a 1,000,000-row flow CSV (~146 MB) posted to the real server, timed to the
 * complete JSON answer, with the server's peak RSS; the same pipeline in pandas + scikit-learn when
 * .venv/bin/python exists. Prints a markdown table and the server's per-step timings.
 *   npm run bench:e2e [-- --rows 1000000 --keep --cpu-prof DIR]
 * --cpu-prof DIR writes the server's CPU profiles (main thread and workers) into DIR.
 * The server runs as a child process so its memory is its own (peak RSS is VmHWM from
 * /proc/<pid>/status): the compiled dist/src/server.js (what `npm start` runs) when it is newer than
 * every file under src/, else `node --import tsx src/server.ts`. The table says which one ran.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openAsBlob, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTrafficCsv } from '../src/generator/index.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' } },
});
const ROWS = Number(args.rows);
const WORK = path.join(os.tmpdir(), 'flowsentry-bench-e2e');
const CSV = path.join(WORK, `flows-${ROWS}.csv`);

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MB`;
}
function sec(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

async function ensureCsv(): Promise<void> {
  await mkdir(WORK, { recursive: true });
  if (existsSync(CSV)) return;
  const t0 = performance.now();
  const r = await writeTrafficCsv({ start: new Date('2024-01-15T00:00:00Z'), hours: 24, rows: ROWS, seed: 42 }, CSV);
  console.log(`generated ${r.records} rows (${r.anomalies} labelled attacks), ${mb(statSync(CSV).size)} in ${sec(performance.now() - t0)}`);
}

function procStatus(pid: number, key: 'VmHWM' | 'VmRSS'): number {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(text);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Newest modification time of the files under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The compiled server when it is up to date with src/ (`npm run build`), else the sources through tsx. */
function serverCommand(): { args: string[]; label: string } {
  const compiled = path.join(ROOT, 'dist', 'src', 'server.js');
  if (existsSync(compiled) && statSync(compiled).mtimeMs >= newestMtime(path.join(ROOT, 'src'))) {
    return { args: [compiled], label: 'compiled dist/src/server.js' };
  }
  const why = existsSync(compiled) ? 'dist/ is older than src/' : 'no dist/';
  return { args: ['--import', 'tsx', path.join(ROOT, 'src', 'server.ts')], label: `src/server.ts through tsx (${why}; npm run build to use the compiled server)` };
}

async function startServer(configPath: string, args: readonly string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, CONFIG: configPath, PORT: '0', HOST: '127.0.0.1', WORKERS: '1', NODE_ENV: 'production', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
    if (m) return { child, url: m[1] };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface PythonResult {
  total: number;
  steps: Record<string, number>;
  anomalies: number;
  peakRss: number;
}

async function runPython(outDir: string): Promise<PythonResult | null> {
  const python = path.join(ROOT, '.venv', 'bin', 'python');
  if (!existsSync(python)) return null;
  const code = `
import json, sys, time, resource
t0 = time.perf_counter(); steps = {}
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.preprocessing import StandardScaler
steps['import'] = time.perf_counter() - t0
t = time.perf_counter()
df = pd.read_csv(sys.argv[1])
steps['read_csv'] = time.perf_counter() - t
features = ${JSON.stringify(['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second', 'retransmission_rate'])}
t = time.perf_counter()
X = StandardScaler().fit_transform(df[features].fillna(df[features].mean()))
steps['scale'] = time.perf_counter() - t
t = time.perf_counter()
model = IsolationForest(n_estimators=100, contamination=0.05, random_state=42, n_jobs=-1).fit(X)
steps['fit'] = time.perf_counter() - t
t = time.perf_counter()
pred = model.predict(X)
scores = model.score_samples(X)
steps['predict+score'] = time.perf_counter() - t
t = time.perf_counter()
out = df[pred == -1].copy()
out['anomaly_score'] = scores[pred == -1]
out.to_csv(sys.argv[2], index=False)
steps['write'] = time.perf_counter() - t
print(json.dumps({'total': time.perf_counter() - t0, 'steps': steps, 'anomalies': int((pred == -1).sum()),
  'peakRss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
`;
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', code, CSV, path.join(outDir, 'py-anomalies.csv')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (c) => {
      if (c !== 0) return reject(new Error(`python exited ${c}`));
      const r = JSON.parse(out.trim().split('\n').pop()!) as PythonResult;
      resolve({ ...r, total: r.total * 1000, steps: Object.fromEntries(Object.entries(r.steps).map(([k, v]) => [k, v * 1000])) });
    });
  });
}

async function main(): Promise<void> {
  await ensureCsv();
  const size = statSync(CSV).size;
  const run = path.join(WORK, `run-${process.pid}`);
  await mkdir(run, { recursive: true });
  const base = JSON.parse(await readFile(path.join(ROOT, 'config.json'), 'utf8')) as Record<string, unknown>;
  const configPath = path.join(run, 'config.json');
  await writeFile(configPath, JSON.stringify({ ...base, server: { ...(base.server as object), max_upload_mb: 1024 }, paths: { uploads: 'uploads', outputs: 'outputs', logs: 'logs' }, logging: { level: 'info', files: false } }));

  const command = serverCommand();
  console.log(`server: ${command.label}`);
  const profile = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(args['cpu-prof'])}`] : [];
  const { child, url } = await startServer(configPath, [...profile, ...command.args]);
  const pid = child.pid!;
  let answer: { id: string; statistics: { total_records: number; anomaly_count: number }; durationMs: number };
  let elapsed: number;
  let idleRss: number;
  try {
    // A running app: its worker threads, warmed at start, are ready (as after any first seconds of uptime).
    for (let i = 0; i < 300; i++) {
      const health = (await (await fetch(`${url}/health`)).json()) as { workers?: { detector: string; parser: string } };
      if (health.workers === undefined || (health.workers.detector === 'ready' && health.workers.parser === 'ready')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    idleRss = procStatus(pid, 'VmRSS');
    const form = new FormData();
    form.append('file', await openAsBlob(CSV, { type: 'text/csv' }), path.basename(CSV));
    const t0 = performance.now();
    const res = await fetch(`${url}/analyze`, { method: 'POST', body: form, headers: { Accept: 'application/json' } });
    answer = (await res.json()) as typeof answer;
    elapsed = performance.now() - t0;
    if (res.status !== 200) throw new Error(`analyze answered ${res.status}: ${JSON.stringify(answer)}`);
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
  const peak = procStatus(pid, 'VmHWM');
  const summary = (await (await fetch(`${url}/download/${answer.id}/summary`)).json()) as { timings: Record<string, number>; durationMs: number };
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));

  let py: PythonResult | null = null;
  try {
    py = await runPython(run);
  } catch (err) {
    console.error(`pandas + scikit-learn run failed: ${(err as Error).message}`);
  }

  console.log(`\n## End to end: ${ROWS.toLocaleString('en')} rows, ${mb(size)}, ${os.cpus().length} cores\n`);
  console.log(`Server: ${command.label}\n`);
  console.log('| | time | peak RSS | anomalies |');
  console.log('|---|---:|---:|---:|');
  console.log(`| flowsentry: POST /analyze → complete JSON answer | ${sec(elapsed)} | ${mb(peak)} (idle ${mb(idleRss)}) | ${answer.statistics.anomaly_count} |`);
  console.log(`| flowsentry: pipeline inside the server | ${sec(summary.durationMs)} | | |`);
  if (py) {
    console.log(`| pandas + scikit-learn 1.9.1 (read, scale, fit, predict, score, write) | ${sec(py.total)} | ${mb(py.peakRss)} | ${py.anomalies} |`);
    console.log(`| speed-up | ${(py.total / elapsed).toFixed(2)}× | | |`);
  } else {
    console.log('| pandas + scikit-learn | (no .venv/bin/python) | | |');
  }
  console.log(`\nGoal: < 4 s end to end, ≥ 2.5× faster than pandas + scikit-learn, peak < 1 GB.`);
  console.log(`\n### Where the time goes (server steps; upload = answer time − pipeline)\n`);
  console.log('| step | ms |');
  console.log('|---|---:|');
  console.log(`| upload + multipart to disk | ${(elapsed - summary.durationMs).toFixed(0)} |`);
  for (const [step, ms] of Object.entries(summary.timings)) console.log(`| ${step} | ${ms.toFixed(0)} |`);
  if (py) {
    console.log(`\n### pandas + scikit-learn steps\n`);
    console.log('| step | ms |');
    console.log('|---|---:|');
    for (const [step, ms] of Object.entries(py.steps)) console.log(`| ${step} | ${ms.toFixed(0)} |`);
  }
  if (!args.keep) await rm(run, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
