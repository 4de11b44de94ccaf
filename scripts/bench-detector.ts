/**
 * Detector benchmark: fit time and scoring throughput of our IsolationForest (1 thread, 2 workers)
 * and of scikit-learn (n_jobs default and 2 threads) on ODDS http.csv and on a generated
 * 1,000,000 × 6 set; plus the AnomalyModel path the web pipeline uses (fit + score all + explain 5 %).
 * Run: npm run bench:detector. Timings are medians of a few runs; the machine may be shared.
 *
 * With `-- --file flows.csv [--repeats 5]` it times only what the analysis pipeline does with the
 * detector on that CSV (parsed as the pipeline parses it, features from config.json): the warm pool,
 * AnomalyModel.fit with 2 workers, then explainAsync of every anomaly, as medians; e.g. the
 * end-to-end benchmark's file, /tmp/flowsentry-bench-e2e/flows-1000000.csv.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/index.ts';
import { AnomalyModel, IsolationForest, Random, closeScorePool, rocAuc, warmScorePool, type Matrix } from '../src/detection/index.ts';
import { numericColumn, parseCsvFile } from '../src/ingest/index.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const HTTP = join(ROOT, '../shared/datasets/odds/http.csv');
const PYTHON = join(ROOT, '.venv/bin/python');
const REPEATS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => unknown | Promise<unknown>, repeats = REPEATS): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t = performance.now();
    await fn();
    times.push((performance.now() - t) / 1000);
  }
  return median(times);
}

function readHttp(): { X: Matrix; labels: Uint8Array } | null {
  if (!existsSync(HTTP)) return null;
  const lines = readFileSync(HTTP, 'utf8').split('\n').filter((l) => l.length > 0);
  const n = lines.length - 1;
  const data = new Float64Array(n * 3);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = lines[i + 1].split(',');
    data[i * 3] = +p[0];
    data[i * 3 + 1] = +p[1];
    data[i * 3 + 2] = +p[2];
    labels[i] = +p[3];
  }
  return { X: { data, rows: n, cols: 3 }, labels };
}

/** 1M flows × 6 features: log-normal bytes/packets/duration, ports, protocol; 0.5 % anomalies. */
function generated(rows = 1_000_000): Matrix {
  const rng = new Random(2024);
  const gauss = () => {
    let u = rng.nextDouble();
    while (u === 0) u = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.nextDouble());
  };
  const data = new Float64Array(rows * 6);
  for (let i = 0; i < rows; i++) {
    const anomaly = rng.nextDouble() < 0.005;
    const o = i * 6;
    const packets = Math.round(Math.exp(2 + gauss() * (anomaly ? 2.5 : 0.8))) + 1;
    data[o] = Math.round(packets * Math.exp(6 + gauss() * 0.5)); // bytes
    data[o + 1] = packets;
    data[o + 2] = Math.exp(gauss() * (anomaly ? 3 : 1)); // duration s
    data[o + 3] = anomaly ? 1 + rng.nextInt(65535) : [80, 443, 53, 22, 25][rng.nextInt(5)]; // dst port
    data[o + 4] = 1024 + rng.nextInt(64512); // src port
    data[o + 5] = rng.nextDouble() < 0.9 ? 6 : 17; // protocol
  }
  return { data, rows, cols: 6 };
}

interface Row {
  set: string;
  impl: string;
  fit: number;
  rowsPerSec: number;
  note?: string;
}

async function benchOurs(name: string, X: Matrix, out: Row[]): Promise<void> {
  let forest = new IsolationForest({ randomState: 0 });
  const fit = await timeIt(() => (forest = new IsolationForest({ randomState: 0 }).fit(X)));
  const one = await timeIt(() => forest.scoreSamples(X));
  const oneRaw = await timeIt(() => forest.scoreSamples(X, { foldDuplicates: false }));
  await forest.scoreSamplesAsync(X, { workers: 2 }); // start the pool (kept for later calls)
  const two = await timeIt(() => forest.scoreSamplesAsync(X, { workers: 2 }));
  const twoRaw = await timeIt(() => forest.scoreSamplesAsync(X, { workers: 2, foldDuplicates: false }));
  out.push({ set: name, impl: 'ours, 1 thread', fit, rowsPerSec: X.rows / one });
  out.push({ set: name, impl: 'ours, 1 thread, no duplicate folding', fit, rowsPerSec: X.rows / oneRaw });
  out.push({ set: name, impl: 'ours, 2 workers', fit, rowsPerSec: X.rows / two });
  out.push({ set: name, impl: 'ours, 2 workers, no duplicate folding', fit, rowsPerSec: X.rows / twoRaw });
}

const SKLEARN_CODE = `
import sys, time, json, numpy as np, sklearn
from sklearn.ensemble import IsolationForest
from joblib import parallel_backend
path, rows, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X = np.fromfile(path, dtype=np.float64).reshape(rows, cols)
def med(f, k=${REPEATS}):
    ts = []
    for _ in range(k):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2]
res = {"version": sklearn.__version__}
m = {}
def fit1(): m["a"] = IsolationForest(random_state=0, n_jobs=1).fit(X)
res["fit_n_jobs_1"] = med(fit1)
def fit2(): m["b"] = IsolationForest(random_state=0, n_jobs=2).fit(X)
res["fit_n_jobs_2"] = med(fit2)
res["score_default"] = med(lambda: m["a"].score_samples(X), 1)
def two():
    with parallel_backend("threading", n_jobs=2):
        m["b"].score_samples(X)
res["score_threads_2"] = med(two, 1)
print(json.dumps(res))
`;

function benchSklearn(name: string, X: Matrix, dir: string, out: Row[]): void {
  if (!existsSync(PYTHON)) {
    console.log(`(scikit-learn column skipped: ${PYTHON} not found)`);
    return;
  }
  const file = join(dir, `${name}.f64`);
  writeFileSync(file, new Uint8Array(X.data.buffer, X.data.byteOffset, X.data.byteLength));
  const r = spawnSync(PYTHON, ['-c', SKLEARN_CODE, file, String(X.rows), String(X.cols)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    console.log(`(scikit-learn failed on ${name}: ${r.stderr.trim().split('\n').pop()})`);
    return;
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop()!);
  out.push({ set: name, impl: `scikit-learn ${res.version}, default (n_jobs=1)`, fit: res.fit_n_jobs_1, rowsPerSec: X.rows / res.score_default });
  out.push({ set: name, impl: `scikit-learn ${res.version}, n_jobs=2 + 2 threads`, fit: res.fit_n_jobs_2, rowsPerSec: X.rows / res.score_threads_2 });
}

function columnsOf(X: Matrix): Float64Array[] {
  return Array.from({ length: X.cols }, (_, c) => {
    const col = new Float64Array(X.rows);
    for (let r = 0; r < X.rows; r++) col[r] = X.data[r * X.cols + c];
    return col;
  });
}

async function benchPipeline(name: string, X: Matrix, features: string[]): Promise<string> {
  const columns = columnsOf(X);
  const times: { fit: number; explain: number; total: number }[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const t0 = performance.now();
    const fit = await AnomalyModel.fit(features, columns, { randomState: i }, { workers: 2 });
    const t1 = performance.now();
    const order = Array.from(fit.scores.keys()).sort((a, b) => fit.scores[a] - fit.scores[b]);
    const top = order.slice(0, Math.round(X.rows * 0.05));
    const t2 = performance.now();
    fit.model.explain(columns, top);
    const t3 = performance.now();
    times.push({ fit: (t1 - t0) / 1000, explain: (t3 - t2) / 1000, total: (t1 - t0 + t3 - t2) / 1000 });
  }
  const m = (k: 'fit' | 'explain' | 'total') => median(times.map((t) => t[k])).toFixed(3);
  return `| ${name} | ${X.rows.toLocaleString('en-US')} × ${X.cols} | ${m('fit')} s | ${m('explain')} s | ${m('total')} s |`;
}

/** Fit + explain as the pipeline runs them on one CSV's configured features; medians of `repeats`. */
async function benchFile(file: string, repeats: number): Promise<void> {
  const { features, contamination, nEstimators, randomState } = loadConfig({ path: join(ROOT, 'config.json') }).detection;
  const table = await parseCsvFile(file, { requiredColumns: features, numericColumns: features });
  const columns = features.map((f) => numericColumn(table, f)!.values);
  await warmScorePool(2); // the server warms its pool at start-up
  const times: { fit: number; explain: number }[] = [];
  let anomalies = 0;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const fit = await AnomalyModel.fit(features, columns, { contamination, nEstimators, randomState }, { workers: 2 });
    const t1 = performance.now();
    const rows: number[] = [];
    for (let r = 0; r < fit.isAnomaly.length; r++) if (fit.isAnomaly[r] === 1) rows.push(r);
    const t2 = performance.now();
    await fit.model.explainAsync(columns, rows, { workers: 2 });
    times.push({ fit: (t1 - t0) / 1000, explain: (performance.now() - t2) / 1000 });
    anomalies = rows.length;
  }
  const m = (k: 'fit' | 'explain') => median(times.map((t) => t[k])).toFixed(3);
  const total = median(times.map((t) => t.fit + t.explain)).toFixed(3);
  console.log(`${file}: ${table.rowCount.toLocaleString('en-US')} rows × ${features.length} features (${features.join(', ')}), medians of ${repeats}`);
  console.log('| fit + score (2 workers) | explain anomalies | total |\n|---|---|---|');
  console.log(`| ${m('fit')} s | ${m('explain')} s (${anomalies.toLocaleString('en-US')} rows) | ${total} s |`);
}

async function main(): Promise<void> {
  const { values: args } = parseArgs({ options: { file: { type: 'string' }, repeats: { type: 'string', default: '5' } } });
  if (args.file) {
    try {
      await benchFile(args.file, Number(args.repeats));
    } finally {
      await closeScorePool();
    }
    return;
  }
  console.log(`Detector benchmark — Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'cpu'}), 100 trees, maxSamples auto`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-detector-'));
  const rows: Row[] = [];
  const pipeline: string[] = [];
  try {
    const http = readHttp();
    if (http) {
      await benchOurs('http.csv', http.X, rows);
      const f = new IsolationForest({ randomState: 0 }).fit(http.X);
      console.log(`http.csv ROC AUC (seed 0, our forest): ${rocAuc(f.scoreSamples(http.X).map((s) => -s), http.labels).toFixed(5)}`);
      benchSklearn('http.csv', http.X, dir, rows);
      pipeline.push(await benchPipeline('http.csv', http.X, ['f0', 'f1', 'f2']));
    } else {
      console.log(`(http.csv skipped: ${HTTP} not found)`);
    }
    const gen = generated();
    await benchOurs('generated 1M×6', gen, rows);
    benchSklearn('generated 1M×6', gen, dir, rows);
    pipeline.push(await benchPipeline('generated 1M×6', gen, ['bytes', 'packets', 'duration', 'dst_port', 'src_port', 'protocol']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await closeScorePool();
  }
  console.log('\n| data | implementation | fit | scoring throughput |\n|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.set} | ${r.impl} | ${r.fit.toFixed(3)} s | ${Math.round(r.rowsPerSec).toLocaleString('en-US')} rows/s |`);
  console.log('\nAnomalyModel.fit (impute, scale, stats, fit, score every row; 2 workers) + explain the 5 % lowest scores:');
  console.log('| data | size | fit + score | explain 5 % | total |\n|---|---|---|---|---|');
  for (const p of pipeline) console.log(p);
}

await main();
