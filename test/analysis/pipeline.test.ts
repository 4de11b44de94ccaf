/** runAnalysis without HTTP: artifacts, atomic output, nothing left behind on failure. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chooseAxes, runAnalysis } from '../../src/analysis/index.ts';
import type { AnomalyRow, ChartPoints } from '../../src/analysis/types.ts';
import { loadConfig } from '../../src/config/index.ts';
import { CsvFormatError } from '../../src/ingest/types.ts';
import { decodeIncidentsBin, DEFAULT_RECOMMENDATIONS } from '../../src/reports/index.ts';
import { generateTraffic, trafficToCsv } from '../../src/generator/index.ts';
import { createLogger, MemoryTransport } from '../../src/logging/index.ts';
import { flowCsv } from '../helpers/csv.ts';
import { PROJECT_ROOT } from '../helpers/paths.ts';
import { readAnomalies } from '../helpers/anomalies.ts';

let dir: string;
const config = loadConfig({ path: path.join(PROJECT_ROOT, 'config.json') });
const parameters = { features: config.detection.features, contamination: 0.02, nEstimators: 60, randomState: 1 };

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-pipeline-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

async function input(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('runAnalysis', () => {
  it('when a CSV is analysed, then the folder holds every artifact and the input is moved', async () => {
    const outputsDir = path.join(dir, 'out1');
    const inputPath = await input('a.csv', flowCsv({ rows: 250, anomalies: 5 }));
    const memory = new MemoryTransport();
    const summary = await runAnalysis({ inputPath, fileName: 'a.csv', parameters, config, outputsDir, logger: createLogger({ level: 'debug', memory }), workers: 1 });
    assert.equal(existsSync(inputPath), false, 'input moved');
    assert.deepEqual((await readdir(outputsDir)).sort(), [summary.id]);
    assert.equal(summary.statistics.total_records, 255);
    const rows = await readAnomalies(path.join(outputsDir, summary.id));
    assert.equal(rows.length, summary.statistics.anomaly_count);
    assert.deepEqual(rows.slice(0, 5).map((r) => r.row).sort((a, b) => a - b), [250, 251, 252, 253, 254]);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].severity <= rows[i - 1].severity);
    assert.deepEqual(summary.topAnomalies, rows.slice(0, 20));
    // Context columns are there, timestamps as written.
    assert.deepEqual(Object.keys(rows[0].values), [...config.detection.features, 'timestamp', 'source_ip', 'source_port', 'destination_ip', 'destination_port', 'protocol']);
    assert.match(String(rows[0].values.timestamp), /^2024-01-15 \d\d:\d\d:\d\d$/);
    const points = JSON.parse(await readFile(path.join(outputsDir, summary.id, 'points.json'), 'utf8')) as ChartPoints;
    assert.deepEqual([points.x, points.y], [summary.charts.scatter.x, summary.charts.scatter.y]);
    assert.equal(points.points.filter((p) => p[2] === 1).length, rows.length);
    // Recommendations: the incident's mitigation summary, else the advice for the row's type.
    const incidents = new Map(summary.incidents.map((i) => [i.id, i]));
    for (const r of rows) {
      const expected = r.incidentId && incidents.has(r.incidentId) ? incidents.get(r.incidentId)!.mitigation.summary : DEFAULT_RECOMMENDATIONS[r.type];
      assert.equal(r.recommendation, expected, `row ${r.row}`);
    }
    // Every step is timed and logged with the id.
    assert.deepEqual(Object.keys(summary.timings), ['move', 'parse', 'fit', 'explain', 'findings', 'rows', 'charts', 'reports', 'write', 'commit']);
    const steps = memory.entries.filter((e) => String(e.message).startsWith('step '));
    assert.equal(steps.length, 10);
    assert.ok(steps.every((e) => e.analysisId === summary.id));
  });

  it('when keepInput is set, then the input file stays', async () => {
    const inputPath = await input('keep.csv', flowCsv({ rows: 80, anomalies: 2 }));
    await runAnalysis({ inputPath, fileName: 'keep.csv', parameters, config, outputsDir: path.join(dir, 'out2'), keepInput: true, workers: 1 });
    assert.equal(existsSync(inputPath), true);
  });

  it('when the CSV is bad, then it throws CsvFormatError and leaves no folder and no input', async () => {
    const outputsDir = path.join(dir, 'out3');
    const inputPath = await input('bad.csv', flowCsv({ rows: 40, cell: (r, c, v) => (r === 3 && c === 'bytes_transferred' ? 'x' : v) }));
    await assert.rejects(
      runAnalysis({ inputPath, fileName: 'bad.csv', parameters, config, outputsDir, workers: 1 }),
      (err: unknown) => err instanceof CsvFormatError && err.line === 5 && err.columnName === 'bytes_transferred',
    );
    assert.deepEqual(await readdir(outputsDir), []);
    assert.equal(existsSync(inputPath), false);
  });

  it('when a header-only CSV comes, then it throws CsvFormatError and leaves nothing', async () => {
    const outputsDir = path.join(dir, 'out4');
    const inputPath = await input('empty.csv', flowCsv({ rows: 0, anomalies: 0 }));
    await assert.rejects(runAnalysis({ inputPath, fileName: 'empty.csv', parameters, config, outputsDir, workers: 1 }), CsvFormatError);
    assert.deepEqual(await readdir(outputsDir), []);
  });

  it('when one feature is used, then the scatter plots it against the anomaly score', async () => {
    const inputPath = await input('one.csv', flowCsv({ rows: 80, anomalies: 2 }));
    const summary = await runAnalysis({
      inputPath,
      fileName: 'one.csv',
      parameters: { ...parameters, features: ['bytes_transferred'] },
      config,
      outputsDir: path.join(dir, 'out5'),
      workers: 1,
    });
    assert.deepEqual([summary.charts.scatter.x, summary.charts.scatter.y], ['bytes_transferred', 'anomaly_score']);
  });
});

describe('runAnalysis: incident flows', () => {
  it('when incidents are found, then each carries its most severe flows (at most 10) with the input values, and incidents.json all of them', async () => {
    const text = trafficToCsv(generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 6, rows: 3000, seed: 11 }));
    const outputsDir = path.join(dir, 'out8');
    const summary = await runAnalysis({ inputPath: await input('g.csv', text), fileName: 'g.csv', parameters: { ...parameters, contamination: 0.05 }, config, outputsDir, workers: 1 });
    const folder = path.join(outputsDir, summary.id);
    const anomalies = new Map((await readAnomalies(folder)).map((a) => [a.row, a]));
    const file = decodeIncidentsBin(await readFile(path.join(folder, 'incidents.bin')));
    const lines = text.trimEnd().split('\n');
    const header = lines[0].split(',');
    const cell = (row: number, name: string) => lines[row + 1].split(',')[header.indexOf(name)];
    const num = (row: number, name: string) => (cell(row, name) === '' ? null : Number(cell(row, name)));
    assert.ok(summary.incidents.length >= 3);
    assert.deepEqual(file.incidents.map((e) => e.id), summary.incidents.map((i) => i.id));
    let behaviour = 0;
    for (const inc of summary.incidents) {
      const entry = file.incidents.find((e) => e.id === inc.id)!;
      assert.equal(entry.rows.length, inc.flowCount, `${inc.id}: incidents.bin holds every row`);
      const sorted = (rows: readonly number[]) => [...rows].sort((x, y) => x - y);
      if (inc.flowCount <= 200) assert.deepEqual(sorted(entry.rows), sorted(inc.rows), `${inc.id}: the same rows`);
      assert.ok(inc.rows.length <= 200);
      assert.equal(inc.flows.length, Math.min(10, inc.flowCount), inc.id);
      assert.deepEqual(inc.flows.map((f) => f.row), entry.rows.slice(0, 10), `${inc.id}: the first rows of the full list`);
      for (let k = 1; k < inc.flows.length; k++) assert.ok(inc.flows[k].severity <= inc.flows[k - 1].severity, `${inc.id}: most severe first`);
      // The most severe flows of the incident: none left out is more severe than the last shown.
      const shownMin = inc.flows[inc.flows.length - 1].severity;
      for (let k = 10; k < entry.rows.length; k++) assert.ok(entry.severity[k] <= shownMin + 0.005, `${inc.id}: row ${entry.rows[k]} more severe than the sample`);
      for (const f of inc.flows) {
        const r = f.row;
        assert.equal(f.line, r + 2);
        assert.equal(f.timestamp, cell(r, 'timestamp').replace('T', ' ').replace(/Z$/, '').replace(/\.000$/, ''));
        assert.equal(f.sourceIp, cell(r, 'source_ip'));
        assert.equal(f.destinationIp, cell(r, 'destination_ip'));
        assert.equal(f.sourcePort, num(r, 'source_port'));
        assert.equal(f.destinationPort, num(r, 'destination_port'));
        assert.equal(f.protocol, cell(r, 'protocol'));
        assert.equal(f.bytes, num(r, 'bytes_transferred'));
        assert.equal(f.packets, num(r, 'packet_count'));
        assert.equal(f.duration, num(r, 'connection_duration'));
        const flagged = anomalies.get(r);
        assert.equal(f.detector, flagged !== undefined);
        assert.ok(f.reason.length > 0);
        if (flagged) {
          assert.equal(f.score, flagged.score);
          assert.equal(f.severity, flagged.severity);
          assert.equal(f.reason, flagged.reason);
          assert.equal(flagged.incidentId, inc.id);
        } else behaviour++;
      }
    }
    assert.ok(behaviour > 0, 'behaviour-only flows are shown as evidence too');
  });
});

describe('runAnalysis: results.csv eager or lazy', () => {
  it('when the scored dataset is lazy, then rows.bin is written instead of results.csv, and the anomaly list is one row per line', async () => {
    const text = flowCsv({ rows: 150, anomalies: 3 });
    const eager = await runAnalysis({ inputPath: await input('e.csv', text), fileName: 'e.csv', parameters, config, outputsDir: path.join(dir, 'out6'), workers: 1 });
    const lazy = await runAnalysis({
      inputPath: await input('l.csv', text),
      fileName: 'l.csv',
      parameters,
      config,
      outputsDir: path.join(dir, 'out7'),
      workers: 1,
      scoredDataset: 'lazy',
    });
    const eagerFiles = await readdir(path.join(dir, 'out6', eager.id));
    const lazyFiles = await readdir(path.join(dir, 'out7', lazy.id));
    assert.ok(eagerFiles.includes('results.csv') && !eagerFiles.includes('rows.bin'));
    assert.ok(lazyFiles.includes('rows.bin') && !lazyFiles.includes('results.csv'));
    assert.deepEqual(Object.keys(lazy.timings), ['move', 'parse', 'fit', 'explain', 'findings', 'rows', 'charts', 'reports', 'write', 'commit']);
    const a = await readFile(path.join(dir, 'out6', eager.id, 'anomalies.bin'));
    const b = await readFile(path.join(dir, 'out7', lazy.id, 'anomalies.bin'));
    assert.deepEqual(a, b);
    assert.equal((await readAnomalies(path.join(dir, 'out6', eager.id))).length, eager.statistics.anomaly_count);
    assert.deepEqual(await readFile(path.join(dir, 'out6', eager.id, 'anomalies.csv')), await readFile(path.join(dir, 'out7', lazy.id, 'anomalies.csv')));
  });
});

describe('runAnalysis: the anomaly files and chart points in the report worker', () => {
  it('when the report worker writes anomalies.bin, the anomaly report and points.json, then every artifact has the bytes of an analysis without it', async () => {
    const text = trafficToCsv(generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 4, rows: 2500, seed: 5 }));
    const run = async (reportWorker: boolean, out: string) => {
      const summary = await runAnalysis({
        inputPath: await input(`${out}.csv`, text),
        fileName: 'w.csv',
        parameters: { ...parameters, contamination: 0.05 },
        config,
        outputsDir: path.join(dir, out),
        workers: 1,
        reportWorker,
        scoredDataset: 'lazy',
      });
      const read = (name: string) => readFile(path.join(dir, out, summary.id, name));
      // (The charts are drawn in the analysis here: with the worker, from the points.json it wrote.)
      return { summary, files: await Promise.all(['anomalies.bin', 'anomalies.csv', 'incidents.bin', 'rows.bin', 'points.json', 'scatter.png'].map(read)) };
    };
    const a = await run(true, 'out9');
    const b = await run(false, 'out10');
    assert.ok(a.summary.statistics.anomaly_count > 50);
    a.files.forEach((f, i) => assert.deepEqual(f, b.files[i], `file ${i}`));
    assert.deepEqual(a.summary.topAnomalies, b.summary.topAnomalies);
    assert.deepEqual(a.summary.charts, b.summary.charts);
    assert.equal(a.summary.charts.scatter.anomalyTotal, a.summary.statistics.anomaly_count);
    assert.equal(a.summary.charts.scatter.anomalyShown, a.summary.statistics.anomaly_count, 'every anomaly drawn');
    assert.deepEqual(a.summary.topAnomalies, (await readAnomalies(path.join(dir, 'out9', a.summary.id))).slice(0, 20));
  });

  it('when the analysis fails after the report worker started, then nothing is left behind', async () => {
    const outputsDir = path.join(dir, 'out11');
    const inputPath = await input('bad-w.csv', flowCsv({ rows: 40, anomalies: 2 }));
    // Parsed (the worker starts), then the fit refuses the parameters.
    await assert.rejects(runAnalysis({ inputPath, fileName: 'w.csv', parameters: { ...parameters, nEstimators: 0 }, config, outputsDir, workers: 1, reportWorker: true }));
    assert.deepEqual(await readdir(outputsDir), []);
  });
});

describe('chooseAxes', () => {
  const c = (feature: string, weight: number) => ({ feature, weight, value: 0, median: 0, percentile: 50, direction: 'high' as const });
  it('when anomalies are explained, then the two heaviest features on average win', () => {
    const explanations = [
      { row: 0, contributions: [c('a', 0.1), c('b', 0.5), c('c', 0.4)] },
      { row: 1, contributions: [c('a', 0.2), c('b', 0.2), c('c', 0.6)] },
    ];
    assert.deepEqual(chooseAxes(['a', 'b', 'c'], explanations), ['c', 'b']);
  });
  it('when there are no anomalies, then the first two features', () => {
    assert.deepEqual(chooseAxes(['a', 'b', 'c'], []), ['a', 'b']);
  });
});
