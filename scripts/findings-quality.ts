/**
 * Findings quality: generate traffic with known attack_type labels, run the Isolation Forest and
 * analyzeFindings (its prelude made first, as the pipeline does), and print per-type precision and
 * recall of the typing.
 *   node --import tsx scripts/findings-quality.ts [--seed N] [--rows N] [--hours H] [--share X]
 * "Among findings" = rows that the detector flagged or a behaviour detector hit (what a user sees).
 */
import { parseArgs } from 'node:util';
import { AnomalyModel, closeScorePool } from '../src/detection/index.ts';
import { analyzeFindings, prepareFindings } from '../src/findings/index.ts';
import type { Findings, FindingsInput } from '../src/findings/types.ts';
import { generateTraffic, trafficToFlowTable } from '../src/generator/index.ts';
import type { GeneratedTraffic } from '../src/generator/index.ts';
import { FLOW_FEATURES } from '../src/ingest/types.ts';

export const QUALITY_FEATURES = FLOW_FEATURES;

export const GENERATED_TYPES = ['ddos', 'data_exfiltration', 'port_scan', 'brute_force', 'beaconing'] as const;

export interface TypeQuality {
  readonly type: string;
  readonly labelled: number; // rows with this label
  readonly found: number; // labelled rows among findings
  readonly typed: number; // findings typed as this type
  readonly correct: number;
  readonly precision: number; // correct / typed
  readonly recall: number; // correct / found (among findings)
  readonly coverage: number; // correct / labelled (end to end)
}

export interface QualityRun {
  readonly traffic: GeneratedTraffic;
  readonly input: FindingsInput;
  readonly findings: Findings;
  readonly detected: number;
  readonly perType: readonly TypeQuality[];
}

/** Fits the detector on generated traffic and analyses it; closes nothing (call closeScorePool when done). */
export async function runQuality(opts: {
  seed: number;
  rows: number;
  hours: number;
  share: number;
  contamination?: number;
  /** First flow's day (default 2024-03-04T00:00:00Z). */
  start?: string;
  /** The detector's seed (default: the generator's). */
  randomState?: number;
}): Promise<QualityRun> {
  const traffic = generateTraffic({ start: new Date(opts.start ?? '2024-03-04T00:00:00Z'), hours: opts.hours, rows: opts.rows, seed: opts.seed, anomalyShare: opts.share });
  const table = trafficToFlowTable(traffic);
  // The findings work that needs the table alone, made before the detector runs (the pipeline makes
  // it while the detector scores).
  const prelude = prepareFindings({ table });
  const columns = QUALITY_FEATURES.map((name) => {
    const c = table.columns.find((x) => x.name === name);
    if (!c || c.kind !== 'numeric') throw new Error(`missing feature ${name}`);
    return c.values;
  });
  const fit = await AnomalyModel.fit(QUALITY_FEATURES, columns, { contamination: opts.contamination ?? Math.max(0.01, opts.share), nEstimators: 100, randomState: opts.randomState ?? opts.seed });
  const anomalousRows: number[] = [];
  for (let i = 0; i < traffic.rows; i++) if (fit.isAnomaly[i] === 1) anomalousRows.push(i);
  const explanations = new Map(fit.model.explain(columns, anomalousRows).map((e) => [e.row, e]));
  const input: FindingsInput = { table, features: QUALITY_FEATURES, scores: fit.scores, isAnomaly: fit.isAnomaly, severity: fit.severity, explanations };
  const findings = analyzeFindings({ ...input, prelude }, { now: Date.parse('2024-03-05T00:00:00Z') });
  return { traffic, input, findings, detected: anomalousRows.length, perType: typeQuality(traffic, findings) };
}

export function typeQuality(traffic: GeneratedTraffic, findings: Findings): TypeQuality[] {
  return GENERATED_TYPES.map((type) => {
    const code = traffic.attackTypes.indexOf(type);
    let labelled = 0;
    for (let i = 0; i < traffic.rows; i++) if (traffic.attackType[i] === code) labelled++;
    let found = 0;
    let typed = 0;
    let correct = 0;
    for (const f of findings.flows.values()) {
      const isLabel = traffic.attackType[f.row] === code;
      if (isLabel) found++;
      if (f.type === type) {
        typed++;
        if (isLabel) correct++;
      }
    }
    return {
      type,
      labelled,
      found,
      typed,
      correct,
      precision: typed === 0 ? 0 : correct / typed,
      recall: found === 0 ? 0 : correct / found,
      coverage: labelled === 0 ? 0 : correct / labelled,
    };
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seed: { type: 'string' }, rows: { type: 'string' }, hours: { type: 'string' }, share: { type: 'string' } },
  });
  const seeds = values.seed ? [Number(values.seed)] : [1, 2, 3];
  for (const seed of seeds) {
    const t0 = performance.now();
    const run = await runQuality({ seed, rows: Number(values.rows ?? 12000), hours: Number(values.hours ?? 24), share: Number(values.share ?? 0.05) });
    const ms = performance.now() - t0;
    console.log(`seed ${seed}: ${run.traffic.rows} flows, ${run.detected} detector anomalies, ${run.findings.flows.size} findings, ${run.findings.incidents.length} incidents (${ms.toFixed(0)} ms)`);
    console.log('  type               labelled  found  typed  correct  precision  recall  coverage');
    for (const q of run.perType) {
      console.log(
        `  ${q.type.padEnd(18)} ${String(q.labelled).padStart(8)} ${String(q.found).padStart(6)} ${String(q.typed).padStart(6)} ${String(q.correct).padStart(8)}  ${q.precision.toFixed(3).padStart(9)}  ${q.recall.toFixed(3).padStart(6)}  ${q.coverage.toFixed(3).padStart(8)}`,
      );
    }
    const untyped = [...run.findings.flows.values()].filter((f) => f.type === 'untyped').length;
    console.log(`  untyped findings: ${untyped}; top incidents: ${run.findings.incidents.slice(0, 6).map((i) => `${i.id} ${i.type} sev ${i.severity} (${i.flowCount})`).join(', ')}`);
  }
  await closeScorePool();
}

if (process.argv[1]?.endsWith('findings-quality.ts')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
