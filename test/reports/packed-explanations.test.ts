/**
 * The anomaly rows and the anomaly report from packed explanations (ExplanationSet, as the pipeline
 * gives them) are those from the same explanations as a Map of objects: the same job, anomalies.bin
 * and report bytes, for rows in the set's order or any other, with rows the set does not have.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ExplanationSet } from '../../src/detection/index.ts';
import type { Explanation } from '../../src/detection/types.ts';
import type { FlowFinding } from '../../src/findings/types.ts';
import { parseCsvFile } from '../../src/ingest/index.ts';
import { anomalyRowsOf, packAnomalyRowsJob, writeAnomalyReport, writeAnomalyRowsJob } from '../../src/reports/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'packed-explanations-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const CSV = [
  'timestamp,source_ip,bytes,packets,protocol',
  '2024-01-15 08:00:00,10.0.0.1,1500,10,TCP',
  '2024-01-15 08:01:00,10.0.0.2,,3,UDP',
  '2024-01-15 08:02:00,10.0.0.3,-0,7,TCP',
  '2024-01-15 08:03:00,10.0.0.4,1e3,7,ICMP',
  '2024-01-15 08:04:00,10.0.0.5,98000000,40000,TCP',
].join('\n');

/**
 * Explanations of rows 4, 1, 2, 0 (not 3) over two features named like other strings of the job
 * ('high' is a direction too), with a missing value shown as its mean, a negative zero and a tie.
 */
function explanationSet(): ExplanationSet {
  const features = ['bytes', 'high'];
  return new ExplanationSet(features, Int32Array.of(4, 1, 2, 0), Float64Array.of(1500, 10), {
    feature: Int32Array.of(0, 1, 1, 0, 0, 1, 0, 1),
    weight: Float64Array.of(0.9, 0.1, 0.6, 0.4, 0.5, 0.5, 0.7, 0.3),
    value: Float64Array.of(98000000, 40000, 3, 24875625, -0, 7, 1500, 10),
    percentile: Float64Array.of(100, 100, 0, 99.5, 0, 37.5, 50, 50),
    high: Uint8Array.of(1, 1, 0, 1, 0, 0, 1, 1),
  });
}

async function setup() {
  const source = join(dir, `src-${Math.random().toString(16).slice(2)}.csv`);
  await writeFile(source, CSV);
  const table = await parseCsvFile(source, { numericColumns: ['bytes', 'packets'] });
  const set = explanationSet();
  const map = new Map<number, Explanation>(set.toArray().map((e) => [e.row, e]));
  const finding = (row: number): FlowFinding => ({ row, type: 'port_scan', confidence: 0.5, reason: `row ${row}`, technique: 'T1046', incidentId: 'INC-001', source: 'both' });
  const input = {
    table,
    scores: Float64Array.from([-0.51, -0.61, -0.55, -0.7, -0.8]),
    severity: Float64Array.from([12.5, 55.5, 20, 71, 99.9]),
    flowFindings: new Map([[1, finding(1)], [3, finding(3)]]),
    // Recommendations that are also a feature's and a direction's names: one string list for all.
    recommendationFor: (row: number) => (row === 1 ? 'high' : row === 0 ? 'low' : 'bytes'),
    valueNames: ['bytes', 'packets', 'source_ip'],
  };
  return { source, set, map, input };
}

describe('packed explanations in the anomaly rows and the report', () => {
  for (const [name, rows] of [
    ['the set\'s own order', [4, 1, 2, 0]],
    ['another order, a row without an explanation and a row twice', [3, 0, 2, 1, 4, 0]],
    ['a part of the set, from its middle', [1, 2]],
  ] as const) {
    it(`when the rows are in ${name}, then the job, anomalies.bin and the report are the Map's`, async () => {
      const s = await setup();
      const fromSet = packAnomalyRowsJob({ ...s.input, rows: [...rows], explanations: s.set, outPath: join(dir, 'set.bin') });
      const fromMap = packAnomalyRowsJob({ ...s.input, rows: [...rows], explanations: s.map, outPath: join(dir, 'map.bin') });
      assert.deepEqual({ ...fromSet, outPath: null }, { ...fromMap, outPath: null });
      assert.deepEqual(anomalyRowsOf(fromSet, 10).map((r) => JSON.stringify(r)), anomalyRowsOf(fromMap, 10).map((r) => JSON.stringify(r)));
      await writeAnomalyRowsJob(fromSet);
      await writeAnomalyRowsJob(fromMap);
      assert.deepEqual(await readFile(join(dir, 'set.bin')), await readFile(join(dir, 'map.bin')));

      const report = { sourcePath: s.source, table: s.input.table, rows: [...rows], scores: s.input.scores, severity: s.input.severity, flowFindings: s.input.flowFindings };
      await writeAnomalyReport({ ...report, explanations: s.set, outPath: join(dir, 'set.csv') });
      await writeAnomalyReport({ ...report, explanations: s.map, outPath: join(dir, 'map.csv') });
      assert.equal(await readFile(join(dir, 'set.csv'), 'utf8'), await readFile(join(dir, 'map.csv'), 'utf8'));
    });
  }

  it('when packed, then each row has its own explanation, and none where the set has none', async () => {
    const s = await setup();
    const job = packAnomalyRowsJob({ ...s.input, rows: [3, 0, 4], explanations: s.set, outPath: join(dir, 'x.bin') });
    const [three, zero, four] = anomalyRowsOf(job, 3);
    assert.deepEqual(three.explanation, []);
    assert.equal(job.explanation.has[0], 0);
    assert.deepEqual(zero.explanation, [
      { feature: 'bytes', value: 1500, median: 1500, percentile: 50, direction: 'high', weight: 0.7 },
      { feature: 'high', value: 10, median: 10, percentile: 50, direction: 'high', weight: 0.3 },
    ]);
    assert.deepEqual(four.explanation.map((c) => [c.feature, c.weight]), [['bytes', 0.9], ['high', 0.1]]);
    // Strings coded in the order the objects gave them: row 3's recommendation and finding, then
    // row 0's recommendation and its explanation's feature and direction names.
    assert.deepEqual(job.strings, ['bytes', 'port_scan', 'T1046', 'INC-001', 'low', 'high']);
    assert.deepEqual(Array.from(job.explanation.start), [0, 0, 2, 4]);
  });
});
