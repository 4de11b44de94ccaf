/**
 * Charts benchmark: the pipeline's charts step on 1,000,000 generated flows (5 % anomalies:
 * 50,000) — sampleChartPoints, renderScatter, renderDistribution and renderTimeline, each timed on
 * its own (median of a few warm runs), plus the three renders together as the pipeline awaits them;
 * and first the whole step once, cold, as the first analysis in a fresh server process runs it.
 *   node --import tsx scripts/bench-charts.ts [--rows N] [--runs N] [--out DIR] [--cache FILE]
 * Inputs are built as the pipeline builds them (generateTraffic → trafficToFlowTable →
 * AnomalyModel.fit on six features → explain the anomalies → analyzeFindings → the pipeline's choice
 * of axes: the two features with the largest summed explanation weights). Building
 * them takes a while, so they are cached in --cache (default $TMPDIR/flowsentry-bench-charts-<rows>.bin).
 * --out writes the PNGs of the last run there, to look at.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AnomalyModel, closeScorePool } from '../src/detection/index.ts';
import { analyzeFindings } from '../src/findings/index.ts';
import type { Incident, TimeAnalysis } from '../src/findings/types.ts';
import { generateTraffic, trafficToFlowTable } from '../src/generator/index.ts';
import type { Explanation } from '../src/detection/types.ts';
import { DEFAULT_CHART_SETTINGS, renderDistribution, renderScatter, renderTimeline, sampleChartPoints } from '../src/charts/index.ts';

const FEATURES = ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second', 'retransmission_rate'] as const;

interface Inputs {
  x: Float64Array;
  y: Float64Array;
  xName: string;
  yName: string;
  scores: Float64Array;
  isAnomaly: Uint8Array;
  severity: Float64Array;
  offset: number;
  time: TimeAnalysis;
  incidents: readonly Incident[];
}

/** As chooseAxes in src/analysis/pipeline.ts (not imported: the bench should not load the whole pipeline). */
function chooseAxes(features: readonly string[], explanations: readonly Explanation[]): [string, string] {
  const sums = new Map<string, number>(features.map((f) => [f, 0]));
  for (const e of explanations) for (const c of e.contributions) if (sums.has(c.feature)) sums.set(c.feature, sums.get(c.feature)! + c.weight);
  if (explanations.length === 0) return [features[0], features[1]];
  const ranked = [...features].sort((a, b) => sums.get(b)! - sums.get(a)! || features.indexOf(a) - features.indexOf(b));
  return [ranked[0], ranked[1]];
}

async function build(rows: number): Promise<Inputs> {
  const traffic = generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 24, rows, seed: 42, anomalyShare: 0.05 });
  const table = trafficToFlowTable(traffic);
  const columns = FEATURES.map((name) => {
    const c = table.columns.find((x) => x.name === name);
    if (!c || c.kind !== 'numeric') throw new Error(`missing feature ${name}`);
    return c.values;
  });
  const fit = await AnomalyModel.fit(FEATURES, columns, { contamination: 0.05, nEstimators: 100, randomState: 42 }, { workers: 2 });
  const anomalous: number[] = [];
  for (let i = 0; i < rows; i++) if (fit.isAnomaly[i] === 1) anomalous.push(i);
  const explanationList = await fit.model.explainAsync(columns, anomalous);
  const explanations = new Map(explanationList.map((e) => [e.row, e]));
  const findings = analyzeFindings(
    { table, features: FEATURES, scores: fit.scores, isAnomaly: fit.isAnomaly, severity: fit.severity, explanations },
    { now: Date.parse('2024-03-05T00:00:00Z') },
  );
  const [xName, yName] = chooseAxes(FEATURES, explanationList);
  return {
    x: columns[FEATURES.indexOf(xName as (typeof FEATURES)[number])],
    y: columns[FEATURES.indexOf(yName as (typeof FEATURES)[number])],
    xName,
    yName,
    scores: fit.scores,
    isAnomaly: fit.isAnomaly,
    severity: fit.severity,
    offset: fit.model.offset,
    time: findings.time,
    // Only what the timeline reads.
    incidents: findings.incidents.map((i) => ({ id: i.id, firstSeen: i.firstSeen, lastSeen: i.lastSeen, severity: i.severity }) as unknown as Incident),
  };
}

/** Cache: a JSON header line, then the typed arrays back to back. */
function save(file: string, v: Inputs): void {
  const arrays = [v.x, v.y, v.scores, v.isAnomaly, v.severity];
  const header = JSON.stringify({ xName: v.xName, yName: v.yName, offset: v.offset, time: v.time, incidents: v.incidents, n: v.x.length });
  const parts = [Buffer.from(`${header}\n`), ...arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))];
  writeFileSync(file, Buffer.concat(parts));
}

function load(file: string): Inputs {
  const buf = readFileSync(file);
  const nl = buf.indexOf(10);
  const h = JSON.parse(buf.toString('utf8', 0, nl));
  const n: number = h.n;
  let at = nl + 1;
  const f64 = () => {
    const a = new Float64Array(n);
    Buffer.from(a.buffer).set(buf.subarray(at, at + n * 8));
    at += n * 8;
    return a;
  };
  const x = f64();
  const y = f64();
  const scores = f64();
  const isAnomaly = Uint8Array.from(buf.subarray(at, at + n));
  at += n;
  const severity = f64();
  return { x, y, xName: h.xName, yName: h.yName, scores, isAnomaly, severity, offset: h.offset, time: h.time, incidents: h.incidents };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' }, out: { type: 'string' }, cache: { type: 'string' } } });
  const rows = Number(values.rows);
  const runs = Math.max(1, Number(values.runs));
  const cache = values.cache ?? join(tmpdir(), `flowsentry-bench-charts-${rows}.bin`);
  let inputs: Inputs;
  if (existsSync(cache)) {
    inputs = load(cache);
  } else {
    const t = performance.now();
    inputs = await build(rows);
    await closeScorePool();
    save(cache, inputs);
    console.log(`built inputs in ${((performance.now() - t) / 1000).toFixed(1)} s (cached in ${cache})`);
  }
  let anomalies = 0;
  for (let i = 0; i < inputs.isAnomaly.length; i++) anomalies += inputs.isAnomaly[i];
  console.log(`${rows.toLocaleString('en-US')} rows, ${anomalies.toLocaleString('en-US')} anomalies, axes ${inputs.yName} vs ${inputs.xName}, ${inputs.time.buckets.length} time buckets, ${inputs.incidents.length} incidents`);

  const settings = DEFAULT_CHART_SETTINGS;
  const sampleOpts = { maxNormal: 5000, seed: 42, xName: inputs.xName, yName: inputs.yName };
  const times: Record<string, number[]> = { sample: [], scatter: [], distribution: [], timeline: [], 'renders together': [], 'charts step': [] };
  // First, as the pipeline runs it in a fresh server process: sampling, then the three renders
  // awaited together (Chart.js, fonts and this code not yet warmed up).
  {
    const t0 = performance.now();
    const points = sampleChartPoints(inputs.x, inputs.y, inputs.isAnomaly, inputs.severity, sampleOpts);
    const t1 = performance.now();
    await Promise.all([renderScatter(points, settings), renderDistribution(inputs.scores, inputs.isAnomaly, inputs.offset, settings), renderTimeline(inputs.time, inputs.incidents, settings)]);
    const t2 = performance.now();
    console.log(`cold charts step: ${(t2 - t0).toFixed(1)} ms (sample ${(t1 - t0).toFixed(1)}, renders together ${(t2 - t1).toFixed(1)})`);
    console.log(`points: ${points.points.length.toLocaleString('en-US')} (${points.normalShown} normal, ${points.anomalyShown} of ${points.anomalyTotal} anomalies)`);
  }
  let last: { scatter: Buffer; distribution: Buffer; timeline: Buffer } | null = null;
  for (let run = 1; run <= runs; run++) {
    const t0 = performance.now();
    const points = sampleChartPoints(inputs.x, inputs.y, inputs.isAnomaly, inputs.severity, sampleOpts);
    const t1 = performance.now();
    const scatter = await renderScatter(points, settings);
    const t2 = performance.now();
    const distribution = await renderDistribution(inputs.scores, inputs.isAnomaly, inputs.offset, settings);
    const t3 = performance.now();
    const timeline = await renderTimeline(inputs.time, inputs.incidents, settings);
    const t4 = performance.now();
    // As the pipeline runs them: sampling, then the three renders awaited together.
    const t5 = performance.now();
    const again = sampleChartPoints(inputs.x, inputs.y, inputs.isAnomaly, inputs.severity, sampleOpts);
    const t6 = performance.now();
    await Promise.all([renderScatter(again, settings), renderDistribution(inputs.scores, inputs.isAnomaly, inputs.offset, settings), renderTimeline(inputs.time, inputs.incidents, settings)]);
    const t7 = performance.now();
    times.sample.push(t1 - t0);
    times.scatter.push(t2 - t1);
    times.distribution.push(t3 - t2);
    times.timeline.push(t4 - t3);
    times['renders together'].push(t7 - t6);
    times['charts step'].push(t7 - t5);
    last = { scatter, distribution, timeline };
  }
  console.log(`warm, median of ${runs} runs (ms):`);
  for (const [name, t] of Object.entries(times)) console.log(`  ${name.padEnd(18)} ${median(t).toFixed(1).padStart(8)}   (min ${Math.min(...t).toFixed(1)})`);
  if (last) {
    console.log(`PNG bytes: scatter ${last.scatter.length}, distribution ${last.distribution.length}, timeline ${last.timeline.length}`);
    if (values.out) {
      mkdirSync(values.out, { recursive: true });
      for (const [name, png] of Object.entries(last)) writeFileSync(join(values.out, `${name}.png`), png);
      console.log(`PNGs written to ${values.out}`);
    }
  }
}

await main();
