/** Downloads, chart images and the analysis JSON: valid, unknown and malformed ids. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnalysisSummary, AnomalyRow, ChartPoints } from '../../src/analysis/types.ts';
import { generateTraffic, trafficToCsv } from '../../src/generator/index.ts';
import { decodeIncidentsBin } from '../../src/reports/index.ts';
import { recordFields } from '../../src/ingest/index.ts';
import { getJson, postCsv, startTestApp, type TestApp } from '../helpers/app.ts';
import { flowCsv } from '../helpers/csv.ts';
import { readAnomalies } from '../helpers/anomalies.ts';
import { writeJsonLinesArray } from '../../src/storage/index.ts';
import { ReportsService } from '../../src/web/reports/service.ts';

let t: TestApp;
let id: string;
let anomalyCount: number;
const UNKNOWN = '20000101_000000_abcdef';

before(async () => {
  t = await startTestApp();
  const res = await postCsv(t.url, flowCsv({ rows: 400, anomalies: 8 }), { fields: { contamination: '0.1' } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { id: string; statistics: { anomaly_count: number } };
  id = body.id;
  anomalyCount = body.statistics.anomaly_count;
});
after(async () => t.close());

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('GET /download/:id[/results|/summary|/model]', () => {
  for (const [suffix, file, name, type] of [
    ['', 'anomalies.csv', `anomalies_ID.csv`, 'text/csv'],
    ['/results', 'results.csv', `results_ID.csv`, 'text/csv'],
    ['/summary', 'summary.json', `summary_ID.json`, 'application/json'],
    ['/model', 'model.json', `model_ID.json`, 'application/json'],
  ] as const) {
    it(`when ${file} is asked for, then it comes as an attachment with its bytes`, async () => {
      const res = await fetch(`${t.url}/download/${id}${suffix}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-disposition')?.replace(/"/g, ''), `attachment; filename=${name.replace('ID', id)}`);
      assert.match(res.headers.get('content-type') ?? '', new RegExp(`^${type}`));
      assert.equal(await res.text(), await readFile(path.join(t.config.paths.outputs, id, file), 'utf8'));
    });
  }

  it('when the report is read, then it has a header and one line per anomaly', async () => {
    const text = await (await fetch(`${t.url}/download/${id}`)).text();
    const lines = text.trim().split('\n');
    assert.equal(lines.length, anomalyCount + 1);
    assert.match(lines[0], /^timestamp,source_ip,destination_ip/);
  });

  it('when the id is unknown, then 404', async () => {
    const res = await getJson(`${t.url}/download/${UNKNOWN}`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: `No analysis with id ${UNKNOWN}.` });
  });

  for (const bad of ['..%2F..%2Fetc%2Fpasswd', '20240115_080000_ABCDEF', '20240115_080000_abcdef.json', "x'%20OR%201=1"]) {
    it(`when the id is malformed (${bad}), then 400 and no path is touched`, async () => {
      const res = await getJson(`${t.url}/download/${bad}/results`);
      assert.equal(res.status, 400);
      assert.match((res.body as { error: string }).error, /^Invalid id: an analysis id/);
    });
  }

  it('when the path climbs out with dots, then it never reaches a file', async () => {
    const res = await fetch(`${t.url}/download/../../config.json`);
    assert.equal(res.status, 404);
    const res2 = await fetch(`${t.url}/download/%2e%2e/config.json`);
    assert.ok(res2.status === 400 || res2.status === 404);
  });
});

describe('GET /visualization/:id/:kind', () => {
  for (const kind of ['scatter', 'distribution', 'timeline']) {
    it(`when the ${kind} chart is asked for, then a PNG comes back`, async () => {
      const res = await fetch(`${t.url}/visualization/${id}/${kind}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'image/png');
      const bytes = Buffer.from(await res.arrayBuffer());
      assert.deepEqual(bytes.subarray(0, 8), PNG);
      assert.deepEqual(bytes, await readFile(path.join(t.config.paths.outputs, id, `${kind}.png`)));
    });
  }

  it('when an analysis answered before drawing its charts, then they are drawn from its stored data with the bytes drawn inside an analysis', async () => {
    const eager = await startTestApp({ charts: 'eager' });
    const deferred = await startTestApp({ charts: 'deferred' });
    try {
      const csv = trafficToCsv(generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 6, rows: 3000, seed: 5 }));
      const fields = { contamination: '0.05', random_state: '7', n_estimators: '40' };
      const eagerId = ((await (await postCsv(eager.url, csv, { fields })).json()) as { id: string }).id;
      const deferredId = ((await (await postCsv(deferred.url, csv, { fields })).json()) as { id: string }).id;
      const eagerFolder = path.join(eager.config.paths.outputs, eagerId);
      const folder = path.join(deferred.config.paths.outputs, deferredId);
      // Drawn right after the answer, from charts.json, points.json and summary.json.
      await deferred.settled();
      for (const kind of ['scatter', 'distribution', 'timeline']) {
        const expected = await readFile(path.join(eagerFolder, `${kind}.png`));
        assert.ok((await readFile(path.join(folder, `${kind}.png`))).equals(expected), `${kind}: same bytes as drawn inside the analysis`);
        // A chart not drawn yet is drawn by its request; two requests at once both get it whole.
        await rm(path.join(folder, `${kind}.png`));
        const answers = await Promise.all([0, 1].map(() => fetch(`${deferred.url}/visualization/${deferredId}/${kind}`)));
        for (const res of answers) {
          assert.equal(res.status, 200);
          assert.equal(res.headers.get('content-type'), 'image/png');
          assert.ok(Buffer.from(await res.arrayBuffer()).equals(expected), `${kind}: drawn on request`);
        }
        assert.ok((await readFile(path.join(folder, `${kind}.png`))).equals(expected));
      }
      assert.deepEqual((await readdir(folder)).filter((f) => f.endsWith('.tmp')), []);
    } finally {
      await eager.close();
      await deferred.close();
    }
  });

  it('when a chart was never drawn and its stored data is gone, then 404 names the chart', async () => {
    const deferred = await startTestApp({ charts: 'deferred' });
    try {
      const newId = ((await (await postCsv(deferred.url, flowCsv({ rows: 200, anomalies: 4 }))).json()) as { id: string }).id;
      await deferred.settled();
      const folder = path.join(deferred.config.paths.outputs, newId);
      await rm(path.join(folder, 'charts.json'));
      await rm(path.join(folder, 'scatter.png'));
      const res = await getJson(`${deferred.url}/visualization/${newId}/scatter`);
      assert.equal(res.status, 404);
      assert.deepEqual(res.body, { error: `Analysis ${newId} has no scatter chart.` });
    } finally {
      await deferred.close();
    }
  });

  it('when the kind is unknown, then 400 names it', async () => {
    const res = await getJson(`${t.url}/visualization/${id}/pie`);
    assert.equal(res.status, 400);
    assert.match((res.body as { error: string }).error, /^Invalid kind/);
  });

  it('when the id is unknown, then 404', async () => {
    assert.equal((await fetch(`${t.url}/visualization/${UNKNOWN}/scatter`)).status, 404);
  });
});

describe('GET /analysis/:id/points.json and anomalies.json', () => {
  it('when the points are asked for, then every anomaly is among them', async () => {
    const res = await getJson(`${t.url}/analysis/${id}/points.json`);
    assert.equal(res.status, 200);
    const points = res.body as ChartPoints;
    assert.deepEqual(points, JSON.parse(await readFile(path.join(t.config.paths.outputs, id, 'points.json'), 'utf8')));
    assert.equal(points.points.filter((p) => p[2] === 1).length, anomalyCount);
  });

  it('when a page of anomalies is asked for, then it is that slice, most severe first', async () => {
    const all = await readAnomalies(path.join(t.config.paths.outputs, id));
    const res = await getJson(`${t.url}/analysis/${id}/anomalies.json?page=2&size=25`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { total: all.length, page: 2, pageSize: 25, pageCount: Math.ceil(all.length / 25), incident: null, rows: all.slice(25, 50) });
  });

  it('when the analysis is from before anomalies.bin and incidents.bin (JSON files, anomalies.json in lines or in one line), then its pages, incident filter and incident CSV answer the same', async () => {
    const legacy = await startTestApp();
    try {
      const body = (await (await postCsv(legacy.url, trafficToCsv(generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 4, rows: 2000, seed: 3 })))).json()) as {
        id: string;
        incidents: { id: string }[];
      };
      const urls = [`/analysis/${body.id}/anomalies.json?page=2&size=25`, ...body.incidents.slice(0, 2).map((i) => `/analysis/${body.id}/anomalies.json?incident=${i.id}&size=25`)];
      const before = await Promise.all(urls.map(async (u) => (await getJson(`${legacy.url}${u}`)).body));
      assert.ok(body.incidents.length > 0);
      const csvBefore = await (await fetch(`${legacy.url}/download/${body.id}/incident/${body.incidents[0].id}`)).text();
      const folder = path.join(legacy.config.paths.outputs, body.id);
      const anomalies = await readAnomalies(folder);
      await writeJsonLinesArray(path.join(folder, 'anomalies.json'), anomalies);
      await rm(path.join(folder, 'anomalies.bin'));
      // incidents.json was the same IncidentsFile as JSON.
      await writeFile(path.join(folder, 'incidents.json'), JSON.stringify(decodeIncidentsBin(await readFile(path.join(folder, 'incidents.bin')))));
      await rm(path.join(folder, 'incidents.bin'));
      // anomalies.json one row per line (with its index), then the oldest: the whole list in one line.
      for (const format of ['lines', 'one line'] as const) {
        if (format === 'one line') await writeFile(path.join(folder, 'anomalies.json'), JSON.stringify(anomalies));
        // A new process (no cache) over the same folder reads the JSON files.
        const reader = new ReportsService(legacy.store);
        let csvAfter = '';
        for await (const piece of await reader.incidentReport(body.id, body.incidents[0].id)) csvAfter += piece;
        assert.equal(csvAfter, csvBefore);
        for (const [k, u] of urls.entries()) {
          const m = /page=(\d+)/.exec(u);
          const incident = /incident=([^&]+)/.exec(u)?.[1];
          const page = await reader.anomalyPage(body.id, m ? Number(m[1]) : 1, 25, incident);
          const expected = before[k] as { rows: AnomalyRow[]; total: number };
          assert.deepEqual(page.rows, expected.rows, `${format}: ${u}`);
          assert.equal(page.total, expected.total);
        }
      }
    } finally {
      await legacy.close();
    }
  });

  it('when the page is past the end, then the last page comes back', async () => {
    const res = await getJson(`${t.url}/analysis/${id}/anomalies.json?page=999&size=100`);
    assert.equal(res.status, 200);
    assert.equal((res.body as { page: number }).page, 1);
  });

  it('when the page size is not 25, 50 or 100, then 400', async () => {
    const res = await getJson(`${t.url}/analysis/${id}/anomalies.json?size=7`);
    assert.equal(res.status, 400);
    assert.equal((res.body as { error: string }).error, 'Invalid size: one of 25, 50, 100');
  });

  it('when the id is unknown or malformed, then 404 or 400', async () => {
    assert.equal((await getJson(`${t.url}/analysis/${UNKNOWN}/points.json`)).status, 404);
    assert.equal((await getJson(`${t.url}/analysis/${UNKNOWN}/anomalies.json`)).status, 404);
    assert.equal((await getJson(`${t.url}/analysis/nope/points.json`)).status, 400);
  });
});

describe('GET /download/:id/results when results.csv was left for the first download', () => {
  it('when it is first asked for, then it is written from rows.bin with the bytes an eager analysis writes, and kept', async () => {
    const lazy = await startTestApp({ scoredDataset: 'lazy' });
    try {
      const csv = flowCsv({ rows: 300, anomalies: 6 });
      const fields = { contamination: '0.05', random_state: '7', n_estimators: '40' };
      const eagerRes = await postCsv(t.url, csv, { fields });
      const lazyRes = await postCsv(lazy.url, csv, { fields });
      const eagerId = ((await eagerRes.json()) as { id: string }).id;
      const lazyId = ((await lazyRes.json()) as { id: string }).id;
      const folder = path.join(lazy.config.paths.outputs, lazyId);
      assert.ok(existsSync(path.join(folder, 'rows.bin')));
      assert.equal(existsSync(path.join(folder, 'results.csv')), false);

      const expected = await readFile(path.join(t.config.paths.outputs, eagerId, 'results.csv'), 'utf8');
      // Two at once: one writer, both answered in full.
      const answers = await Promise.all([0, 1].map(() => fetch(`${lazy.url}/download/${lazyId}/results`)));
      for (const res of answers) {
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-disposition')?.replace(/"/g, ''), `attachment; filename=results_${lazyId}.csv`);
        assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
        assert.equal(await res.text(), expected);
      }
      assert.equal(await readFile(path.join(folder, 'results.csv'), 'utf8'), expected);
      assert.deepEqual((await readdir(folder)).filter((f) => f.endsWith('.tmp')), []);
      // Later downloads serve the kept file.
      assert.equal(await (await fetch(`${lazy.url}/download/${lazyId}/results`)).text(), expected);
    } finally {
      await lazy.close();
    }
  });
});

describe('GET /download/:id/incident/:incidentId and the ?incident= filter, on generated traffic', () => {
  let g: TestApp;
  let gid: string;
  let csv: string;
  let summary: AnalysisSummary;
  const fields = { contamination: '0.05', random_state: '3', n_estimators: '60' };
  const folder = () => path.join(g.config.paths.outputs, gid);
  /** Splits a CSV text into records of fields (our test data has no line breaks inside quotes). */
  const records = (text: string) => text.trimEnd().split('\n').map((l) => recordFields(Buffer.from(l)));

  before(async () => {
    g = await startTestApp({ scoredDataset: 'eager' });
    csv = trafficToCsv(generateTraffic({ start: new Date('2024-03-04T00:00:00Z'), hours: 6, rows: 3000, seed: 11 }));
    const res = await postCsv(g.url, csv, { fields });
    assert.equal(res.status, 200);
    gid = ((await res.json()) as { id: string }).id;
    summary = JSON.parse(await readFile(path.join(folder(), 'summary.json'), 'utf8')) as AnalysisSummary;
    assert.ok(summary.incidents.length >= 3, `incidents: ${summary.incidents.length}`);
  });
  after(async () => g.close());

  it('when an incident is asked for, then every flow behind it comes, most severe first, with the original values and the same cells as results.csv plus its reason', async () => {
    const file = decodeIncidentsBin(await readFile(path.join(folder(), 'incidents.bin')));
    const results = (await readFile(path.join(folder(), 'results.csv'), 'utf8')).trimEnd().split('\n');
    const input = csv.trimEnd().split('\n');
    const anomalies = await readAnomalies(folder());
    const anomalyByRow = new Map(anomalies.map((a) => [a.row, a]));
    let behaviourFlows = 0;
    for (const inc of summary.incidents) {
      const res = await fetch(`${g.url}/download/${gid}/incident/${inc.id}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-disposition')?.replace(/"/g, ''), `attachment; filename=incident_${inc.id}_${gid}.csv`);
      assert.match(res.headers.get('content-type') ?? '', /^text\/csv; charset=utf-8/);
      const text = await res.text();
      const lines = text.trimEnd().split('\n');
      // Header: the upload's columns, then ours (attack_type is taken by the generator's label, so renamed).
      assert.equal(lines[0], `${input[0]},anomaly_score,severity,is_anomaly,detected_attack_type,incident_id,reason`);
      assert.equal(lines.length - 1, inc.flowCount, inc.id);
      const entry = file.incidents.find((e) => e.id === inc.id)!;
      assert.equal(entry.rows.length, inc.flowCount);
      const cells = records(text).slice(1);
      const width = input[0].split(',').length;
      let lastSeverity = Infinity;
      entry.rows.forEach((row, k) => {
        const c = cells[k];
        // Original values, then the same appended cells results.csv has for that row.
        assert.equal(c.slice(0, width).join(','), input[row + 1], `${inc.id} row ${row}`);
        assert.deepEqual(c.slice(0, width + 5), recordFields(Buffer.from(results[row + 1])), `${inc.id} row ${row} vs results.csv`);
        assert.equal(c[width + 4], inc.id);
        const severity = Number(c[width + 1]);
        assert.ok(severity <= lastSeverity, `${inc.id}: most severe first`);
        lastSeverity = severity;
        const flagged = anomalyByRow.get(row);
        assert.equal(c[width + 2], flagged ? '1' : '0');
        if (flagged) assert.equal(c[width + 5], flagged.reason);
        else behaviourFlows++;
        assert.ok(c[width + 5].length > 0, 'every flow has a reason');
      });
    }
    assert.ok(behaviourFlows > 0, 'behaviour-only flows are in the CSVs too');
  });

  it('when the analysis left results.csv for later, then the incident CSV is the same', async () => {
    const lazy = await startTestApp({ scoredDataset: 'lazy' });
    try {
      const lazyId = ((await (await postCsv(lazy.url, csv, { fields })).json()) as { id: string }).id;
      assert.equal(existsSync(path.join(lazy.config.paths.outputs, lazyId, 'results.csv')), false);
      const inc = summary.incidents[0].id;
      const [a, b] = await Promise.all([fetch(`${g.url}/download/${gid}/incident/${inc}`), fetch(`${lazy.url}/download/${lazyId}/incident/${inc}`)]);
      assert.equal(await b.text(), await a.text());
    } finally {
      await lazy.close();
    }
  });

  it('when the incident or the analysis is unknown, then 404 names it', async () => {
    const res = await getJson(`${g.url}/download/${gid}/incident/INC-999`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: `Analysis ${gid} has no incident INC-999.` });
    const res2 = await getJson(`${g.url}/download/${UNKNOWN}/incident/INC-001`);
    assert.equal(res2.status, 404);
    assert.deepEqual(res2.body, { error: `No analysis with id ${UNKNOWN}.` });
    const page = await fetch(`${g.url}/download/${gid}/incident/INC-999`, { headers: { Accept: 'text/html' } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  });

  for (const bad of ['INC-1', 'inc-001', 'INC-001.csv', 'INC-0000001', '..%2F..%2Fsummary.json', 'INC-001%00', 'INC-00a']) {
    it(`when the incident id is malformed (${bad}), then 400 and no path is touched`, async () => {
      const touched: string[] = [];
      const filePath = g.store.filePath.bind(g.store);
      g.store.filePath = (id, f) => {
        touched.push(f);
        return filePath(id, f);
      };
      try {
        const res = await getJson(`${g.url}/download/${gid}/incident/${bad}`);
        assert.equal(res.status, 400);
        assert.match((res.body as { error: string }).error, /^Invalid incidentId: an incident id \(INC-001\)/);
      } finally {
        g.store.filePath = filePath;
      }
      assert.deepEqual(touched, []);
    });
  }

  it('when the anomalies are filtered to an incident, then only its flagged flows come, in the table order, paged', async () => {
    const all = await readAnomalies(folder());
    for (const inc of summary.incidents) {
      const expected = all.filter((a) => a.incidentId === inc.id);
      const res = await getJson(`${g.url}/analysis/${gid}/anomalies.json?incident=${inc.id}&size=25`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { total: expected.length, page: 1, pageSize: 25, pageCount: Math.max(1, Math.ceil(expected.length / 25)), incident: inc.id, rows: expected.slice(0, 25) });
    }
    const big = summary.incidents.map((i) => ({ id: i.id, n: all.filter((a) => a.incidentId === i.id).length })).sort((a, b) => b.n - a.n)[0];
    assert.ok(big.n > 25, `an incident with more than a page of anomalies (${big.n})`);
    const res = await getJson(`${g.url}/analysis/${gid}/anomalies.json?incident=${big.id}&size=25&page=2`);
    assert.deepEqual((res.body as { rows: AnomalyRow[] }).rows, all.filter((a) => a.incidentId === big.id).slice(25, 50));
  });

  it('when the filter names no incident of the analysis, then 404; when it is malformed, then 400', async () => {
    const res = await getJson(`${g.url}/analysis/${gid}/anomalies.json?incident=INC-999`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: `Analysis ${gid} has no incident INC-999.` });
    for (const bad of ['INC-1', '../x', 'INC-001,INC-002']) {
      const r = await getJson(`${g.url}/analysis/${gid}/anomalies.json?incident=${encodeURIComponent(bad)}`);
      assert.equal(r.status, 400, bad);
      assert.match((r.body as { error: string }).error, /^Invalid incident: an incident id/);
    }
    assert.equal((await getJson(`${g.url}/analysis/${gid}/anomalies.json?incident=`)).status, 200, 'blank means no filter');
  });
});
