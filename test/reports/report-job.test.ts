/**
 * The anomalies as a packed job: the rows it makes are the AnomalyRow objects the pipeline used to
 * build from its Maps, anomalies.bin gives them back, and a job that went through a structured
 * clone (the report worker) writes the same bytes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { AnomalyRow } from '../../src/analysis/types.ts';
import type { Explanation } from '../../src/detection/types.ts';
import type { FlowFinding } from '../../src/findings/types.ts';
import { columnValueAsText, type FlowTable, parseCsvFile } from '../../src/ingest/index.ts';
import {
  AnomalyRowsFile,
  anomalyRowsOf,
  reportOnlyJob,
  packAnomalyRowsJob,
  startReportWorker,
  writeAnomalyFiles,
  writeAnomalyReport,
  writeAnomalyReportJob,
  writeAnomalyRowsJob,
} from '../../src/reports/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'report-job-test-'));
after(() => rm(dir, { recursive: true, force: true }));

// Quoted text with commas, quotes, a line break and non-ASCII; missing numbers, texts and times;
// a negative zero and a number written as 1e3.
const CSV = [
  'timestamp,source_ip,bytes,packets,protocol,destination_port,note',
  '2024-01-15 08:00:00,10.0.0.1,1500,10,TCP,443,plain',
  '2024-01-15 08:01:00.250,,NaN,3,"UDP, ""odd""\nline",,ünï',
  ',10.0.0.3,-0,,,80,',
  '2024-01-15 08:03:00,10.0.0.4,1e3,7,ICMP,0,"x"',
  '2024-01-15 08:04:00,10.0.0.5,98000000,40000,TCP,4444,',
].join('\n');

const contribution = (feature: string, value: number, weight: number, direction: 'high' | 'low' = 'high') => ({
  feature,
  value,
  median: 1500,
  percentile: 99.123456789,
  direction,
  weight,
});

async function setup() {
  const source = join(dir, `src-${Math.random().toString(16).slice(2)}.csv`);
  await writeFile(source, CSV);
  const table = await parseCsvFile(source, { numericColumns: ['bytes', 'packets'] });
  const rows = [4, 1, 0, 3, 2];
  const scores = Float64Array.from([-0.51, -0.6123456789, -0.55, -0.7, -0.8]);
  const severity = Float64Array.from([12.345, 55.555, 20, 71.005, 99.999]);
  const explanations = new Map<number, Explanation>([
    [4, { row: 4, contributions: [contribution('bytes', 98000000, 0.7), contribution('packets', 40000, 0.3)] }],
    [1, { row: 1, contributions: [contribution('packets', 3, 1, 'low')] }],
    [0, { row: 0, contributions: [] }],
    [2, { row: 2, contributions: [contribution('bytes', -0, 0.5, 'low'), contribution('bytes', NaN, 0.5)] }],
  ]);
  const finding = (row: number, incidentId: string | null, technique: string | null): FlowFinding => ({
    row,
    type: 'data_exfiltration',
    confidence: 0.875,
    reason: `reason "${row}", with\nbreak`,
    technique,
    incidentId,
    source: 'both',
  });
  const flowFindings = new Map<number, FlowFinding>([
    [4, finding(4, 'INC-001', 'T1048')],
    [1, finding(1, null, null)],
    [3, { ...finding(3, 'INC-001', null), reason: '' }],
  ]);
  const recommendationFor = (row: number) => (row === 4 || row === 3 ? 'Block "it" now' : `Review row ${row}`);
  // Features given twice and a context column that is also a feature.
  const names = ['bytes', 'packets', 'bytes', 'missing_feature', 'timestamp', 'source_ip', 'source_port', 'destination_port', 'protocol'];
  return { source, table, rows, scores, severity, explanations, flowFindings, recommendationFor, names };
}

/** What packAnomalyRowsJob takes, from the setup (all but the output paths). */
function jobInput(s: Awaited<ReturnType<typeof setup>>) {
  return {
    table: s.table,
    valueNames: s.names,
    rows: s.rows,
    scores: s.scores,
    severity: s.severity,
    explanations: s.explanations,
    flowFindings: s.flowFindings,
    recommendationFor: s.recommendationFor,
  };
}

/** The AnomalyRow objects as the pipeline built them before anomalies.json became a job. */
function legacyRows(s: Awaited<ReturnType<typeof setup>>): AnomalyRow[] {
  const { table, names } = s;
  const cols = names.map((name) => table.columns.find((c) => c.name === name)).filter((c) => c !== undefined);
  const values = (row: number) => {
    const v: Record<string, number | string | null> = {};
    for (const col of cols) {
      if (col.kind === 'numeric') v[col.name] = Number.isFinite(col.values[row]) ? col.values[row] : null;
      else {
        const text = columnValueAsText(table as FlowTable, col, row);
        v[col.name] = text === '' ? null : text;
      }
    }
    return v;
  };
  return s.rows.map((row) => {
    const finding = s.flowFindings.get(row);
    return {
      row,
      line: table.lineNumbers[row],
      score: s.scores[row],
      severity: Math.round(s.severity[row] * 100) / 100,
      values: values(row),
      explanation: s.explanations.get(row)?.contributions ?? [],
      type: finding?.type ?? 'untyped',
      confidence: finding?.confidence ?? 0,
      reason: finding?.reason ?? '',
      technique: finding?.technique ?? null,
      incidentId: finding?.incidentId ?? null,
      recommendation: s.recommendationFor(row),
    };
  });
}

describe('the anomalies as a job, and anomalies.bin', () => {
  it('when packed and written, then the rows and the bytes are what the Maps gave, through a structured clone too', async () => {
    const s = await setup();
    const expected = legacyRows(s);
    const job = packAnomalyRowsJob({ ...jobInput(s), outPath: join(dir, 'job.json') });
    assert.deepEqual(anomalyRowsOf(job, 20), expected);
    assert.deepEqual(anomalyRowsOf(job, 2), expected.slice(0, 2));
    // Key order too: JSON text equal, row by row.
    assert.deepEqual(anomalyRowsOf(job, 20).map((r) => JSON.stringify(r)), expected.map((r) => JSON.stringify(r)));
    // anomalies.bin gives back the same rows, key for key, whichever positions are asked for.
    await writeAnomalyRowsJob(job);
    const file = await AnomalyRowsFile.read(join(dir, 'job.json'));
    assert.equal(file.count, expected.length);
    assert.deepEqual(file.rows(0, 99).map((r) => JSON.stringify(r)), expected.map((r) => JSON.stringify(r)));
    assert.deepEqual(file.rows(1, 3), expected.slice(1, 3));
    assert.deepEqual(file.rowsAt([4, 0, 2]), [expected[4], expected[0], expected[2]]);
    assert.deepEqual(file.rows(7, 9), []);
    const cloned = structuredClone({ ...job, outPath: join(dir, 'cloned.json') });
    await writeAnomalyRowsJob(cloned);
    assert.deepEqual(await readFile(join(dir, 'cloned.json')), await readFile(join(dir, 'job.json')));
  });

  it('when the job runs in the report worker, then the file has the same bytes', async () => {
    const s = await setup();
    const input = jobInput(s);
    await writeAnomalyRowsJob(packAnomalyRowsJob({ ...input, outPath: join(dir, 'here.json') }));
    const worker = startReportWorker();
    try {
      await worker.run(packAnomalyRowsJob({ ...input, outPath: join(dir, 'there.json') }));
    } finally {
      await worker.close();
    }
    assert.equal(worker.alive, false);
    assert.deepEqual(await readFile(join(dir, 'there.json')), await readFile(join(dir, 'here.json')));
  });

  it('when the job also carries the anomaly report, then its CSV has the bytes writeAnomalyReport writes from the Maps, here, cloned and in the worker', async () => {
    const s = await setup();
    const input = jobInput(s);
    await writeAnomalyReport({ ...input, sourcePath: s.source, outPath: join(dir, 'maps.csv') });
    const expected = await readFile(join(dir, 'maps.csv'), 'utf8');
    assert.equal(expected.trimEnd().split('\n').length >= s.rows.length + 1, true);
    const job = (name: string) => packAnomalyRowsJob({ ...input, outPath: join(dir, `${name}.json`), report: { sourcePath: s.source, outPath: join(dir, `${name}.csv`) } });
    await writeAnomalyFiles(job('here'));
    await writeAnomalyFiles(structuredClone(job('cloned')));
    const worker = startReportWorker();
    try {
      await worker.run(job('there'));
    } finally {
      await worker.close();
    }
    for (const name of ['here', 'cloned', 'there']) {
      assert.equal(await readFile(join(dir, `${name}.csv`), 'utf8'), expected, `${name}.csv`);
      assert.deepEqual(await readFile(join(dir, `${name}.json`)), await readFile(join(dir, 'here.json')), `${name}.json`);
    }
    // The report alone (what the report worker gets): the same CSV; no anomalies.bin, value columns or reasons copied.
    const alone = reportOnlyJob(job('alone'));
    assert.equal(alone.outPath, null);
    assert.deepEqual(alone.finding.reason, []);
    assert.deepEqual(alone.valueColumns, []);
    const aloneWorker = startReportWorker();
    try {
      await aloneWorker.prepareReport(reportOnlyJob(job('alone')));
      await aloneWorker.run(alone);
    } finally {
      await aloneWorker.close();
    }
    assert.equal(await readFile(join(dir, 'alone.csv'), 'utf8'), expected, 'report alone');
    await assert.rejects(readFile(join(dir, 'alone.json')), /ENOENT/);
    // A job without the report writes anomalies.bin alone, and refuses to write a report.
    const plain = packAnomalyRowsJob({ ...input, outPath: join(dir, 'plain.json') });
    assert.equal(plain.report, null);
    assert.throws(() => reportOnlyJob(plain), /no anomaly report/);
    await assert.rejects(writeAnomalyReportJob(plain), /no anomaly report/);
  });

  it('when the worker cannot write, then run rejects', async () => {
    const s = await setup();
    const worker = startReportWorker();
    try {
      const job = packAnomalyRowsJob({ ...jobInput(s), outPath: join(dir, 'no-such-folder', 'x.json') });
      await assert.rejects(worker.run(job), /Report worker failed: .*ENOENT/);
    } finally {
      await worker.close();
    }
  });
});
