/** Downloads, chart images and the analysis JSON: valid, unknown and malformed ids. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnomalyRow, ChartPoints } from '../../src/analysis/types.ts';
import { getJson, postCsv, startTestApp, type TestApp } from '../helpers/app.ts';
import { flowCsv } from '../helpers/csv.ts';

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
    const all = JSON.parse(await readFile(path.join(t.config.paths.outputs, id, 'anomalies.json'), 'utf8')) as AnomalyRow[];
    const res = await getJson(`${t.url}/analysis/${id}/anomalies.json?page=2&size=25`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { total: all.length, page: 2, pageSize: 25, pageCount: Math.ceil(all.length / 25), rows: all.slice(25, 50) });
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
