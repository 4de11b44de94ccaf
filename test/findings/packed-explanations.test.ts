/**
 * Findings from the detector's packed explanations (ExplanationSet, as the pipeline gives them) are
 * the findings from the same explanations as a Map of objects.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { AnomalyModel, closeScorePool, type ExplanationSet } from '../../src/detection/index.ts';
import type { Explanation } from '../../src/detection/types.ts';
import { ExplanationIndex } from '../../src/findings/explanations.ts';
import { analyzeFindings } from '../../src/findings/index.ts';
import type { Findings, FindingsInput } from '../../src/findings/types.ts';
import { generateTraffic, trafficToFlowTable } from '../../src/generator/index.ts';
import { numericColumn } from '../../src/ingest/index.ts';

after(() => closeScorePool());

const NOW = Date.parse('2024-03-05T00:00:00Z');
const FEATURES = ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second'];

/** Generated traffic scored and explained by a fitted model, most severe anomaly first (as the pipeline does). */
async function detected(seed: number): Promise<{ input: Omit<FindingsInput, 'explanations'>; set: ExplanationSet }> {
  const t = generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 24, rows: 8000, seed, anomalyShare: 0.05 });
  const table = trafficToFlowTable(t);
  const columns = FEATURES.map((f) => numericColumn(table, f)!.values);
  const { model, scores, isAnomaly, severity } = await AnomalyModel.fit(FEATURES, columns, { randomState: seed, contamination: 0.05 });
  const anomalous: number[] = [];
  for (let i = 0; i < isAnomaly.length; i++) if (isAnomaly[i] === 1) anomalous.push(i);
  anomalous.sort((a, b) => severity[b] - severity[a] || scores[a] - scores[b] || a - b);
  const set = await model.explainPacked(columns, anomalous, { workers: 2 });
  return { input: { table, features: FEATURES, scores, isAnomaly, severity }, set };
}

const asMap = (set: ExplanationSet) => new Map<number, Explanation>(set.toArray().map((e) => [e.row, e]));
const plain = (f: Findings) => ({ flows: [...f.flows.entries()], incidents: f.incidents, time: f.time, recommendations: f.recommendations });

test('when the explanations come packed, then the index holds what it reads from the objects, code for code', async () => {
  const { set } = await detected(31);
  assert.ok(set.size > 300);
  assert.deepEqual({ ...new ExplanationIndex(set) }, { ...new ExplanationIndex(asMap(set)) });
  const x = new ExplanationIndex(set);
  // The first two contributions of each row, as the set ranks them.
  const k = FEATURES.length;
  for (const slot of [0, 1, set.size - 1]) {
    assert.equal(x.row[slot], set.rows[slot]);
    assert.equal(x.kept[slot], 2);
    for (let j = 0; j < 2; j++) {
      assert.equal(x.keyText(x.key[2 * slot + j]), `${FEATURES[set.feature[slot * k + j]]} ${set.high[slot * k + j] === 1 ? 'high' : 'low'}`);
      assert.equal(x.value[2 * slot + j], set.value[slot * k + j]);
      assert.equal(x.percentile[2 * slot + j], set.percentile[slot * k + j]);
    }
  }
});

test('when the explanations come packed, then the findings are those of the same explanations as a Map', async () => {
  for (const seed of [31, 32]) {
    const { input, set } = await detected(seed);
    const fromSet = analyzeFindings({ ...input, explanations: set }, { now: NOW });
    const fromMap = analyzeFindings({ ...input, explanations: asMap(set) }, { now: NOW });
    assert.ok(fromSet.incidents.length > 0);
    assert.deepEqual(plain(fromSet), plain(fromMap), `seed ${seed}`);
    // The explanations matter to these findings (their typing and evidence read them).
    assert.notDeepEqual(plain(analyzeFindings({ ...input, explanations: new Map() }, { now: NOW })), plain(fromSet));
  }
});
