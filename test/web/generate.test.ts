/** POST /generate_data and GET /download_sample/:file. */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, startTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => t.close());

async function generate(body: Record<string, unknown>, accept = 'application/json'): Promise<Response> {
  return fetch(`${t.url}/generate_data`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: accept },
    body: JSON.stringify(body),
    redirect: 'manual',
  });
}

describe('POST /generate_data', () => {
  it('when start_date and duration are valid, then a labelled CSV is written and described', async () => {
    const res = await generate({ start_date: '2024-01-15', duration: 2, seed: 7, anomaly_share: 0.1 });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { success: boolean; filename: string; records: number; anomalies: number; download_url: string; seed: number; byType: Record<string, number> };
    assert.equal(body.success, true);
    assert.match(body.filename, /^sample_\d{8}_\d{6}_[0-9a-f]{6}\.csv$/);
    assert.equal(body.download_url, `/download_sample/${body.filename}`);
    assert.equal(body.seed, 7);
    assert.equal(body.records, 1000, '500 flows per hour by default');
    const text = await readFile(path.join(t.store.samplesDir, body.filename), 'utf8');
    const lines = text.trim().split('\n');
    assert.equal(lines.length, body.records + 1);
    assert.match(lines[0], /bytes_transferred/);
    assert.match(lines[1], /,2024-01-15 00:\d\d:\d\d,/);
    assert.equal(body.anomalies, body.records - body.byType[Object.keys(body.byType)[0]]);
    assert.ok(body.anomalies > 0);

    const download = await fetch(`${t.url}${body.download_url}`);
    assert.equal(download.status, 200);
    assert.equal(download.headers.get('content-disposition')?.replace(/"/g, ''), `attachment; filename=${body.filename}`);
    assert.equal(await download.text(), text);
    const { temp } = await t.leftovers();
    assert.deepEqual(temp, []);
    assert.equal(t.memory.find(`generated ${body.filename}`).length, 1);
  });

  it('when the same seed is used twice, then the same data comes out', async () => {
    const a = (await (await generate({ start_date: '2024-02-01T10:00', duration: 1, seed: 11 })).json()) as { filename: string };
    const b = (await (await generate({ start_date: '2024-02-01T10:00', duration: 1, seed: 11 })).json()) as { filename: string };
    assert.notEqual(a.filename, b.filename);
    assert.equal(await readFile(path.join(t.store.samplesDir, a.filename), 'utf8'), await readFile(path.join(t.store.samplesDir, b.filename), 'utf8'));
  });

  it('when a form posts (urlencoded, Accept text/html), then 303 to the home page with the file', async () => {
    const res = await fetch(`${t.url}/generate_data`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
      body: 'start_date=2024-03-01&duration=1&seed=&anomaly_share=',
      redirect: 'manual',
    });
    assert.equal(res.status, 303);
    const location = res.headers.get('location') ?? '';
    const match = /^\/\?generated=(sample_\d{8}_\d{6}_[0-9a-f]{6}\.csv)$/.exec(location);
    assert.ok(match, location);
    const home = JSON.parse(await (await fetch(`${t.url}${location}`)).text()) as { generated: { filename: string; records: number; download_url: string } };
    assert.deepEqual(home.generated, { filename: match[1], records: 500, download_url: `/download_sample/${match[1]}` });
  });

  for (const [body, field] of [
    [{ duration: 2 }, 'start_date'],
    [{ start_date: 'yesterday', duration: 2 }, 'start_date'],
    [{ start_date: '2024-02-30', duration: 2 }, 'start_date'],
    [{ start_date: '2024-01-15' }, 'duration'],
    [{ start_date: '2024-01-15', duration: 0 }, 'duration'],
    [{ start_date: '2024-01-15', duration: 169 }, 'duration'],
    [{ start_date: '2024-01-15', duration: 1.5 }, 'duration'],
    [{ start_date: '2024-01-15', duration: 1, seed: -3 }, 'seed'],
    [{ start_date: '2024-01-15', duration: 1, anomaly_share: 0.9 }, 'anomaly_share'],
  ] as const) {
    it(`when ${JSON.stringify(body)} is posted, then 400 names ${field}`, async () => {
      const res = await generate(body);
      assert.equal(res.status, 400);
      const answer = (await res.json()) as { error: string; details: { issues: { field: string }[] } };
      assert.match(answer.error, new RegExp(`^Invalid ${field}: `));
      assert.equal(answer.details.issues[0].field, field);
    });
  }

  it('when the JSON body is malformed, then 400', async () => {
    const res = await fetch(`${t.url}/generate_data`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: '{"start_date":' });
    assert.equal(res.status, 400);
    assert.deepEqual(((await res.json()) as { details: unknown }).details, { type: 'entity.parse.failed' });
  });
});

describe('GET /download_sample/:file', () => {
  it('when the sample does not exist, then 404', async () => {
    const res = await getJson(`${t.url}/download_sample/sample_20000101_000000_abcdef.csv`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: 'No generated sample named sample_20000101_000000_abcdef.csv.' });
  });

  for (const bad of ['..%2Fconfig.json', 'sample_1.csv', 'sample_20000101_000000_abcdef.meta.json', '.tmp-sample_20000101_000000_abcdef.csv']) {
    it(`when the name is not a sample name (${bad}), then 400`, async () => {
      const res = await getJson(`${t.url}/download_sample/${bad}`);
      assert.equal(res.status, 400);
      assert.match((res.body as { error: string }).error, /^Invalid file: a generated sample name/);
    });
  }

  it('when samples are listed on disk, then only finished CSVs and their descriptions are there', async () => {
    const names = await readdir(t.store.samplesDir);
    assert.ok(names.every((n) => /^sample_\d{8}_\d{6}_[0-9a-f]{6}\.(csv|meta\.json)$/.test(n)), names.join());
  });
});

describe('POST /generate_data from a form, failing', () => {
  it('when a browser form posts a bad duration, then the home page comes back with the message', async () => {
    const res = await fetch(`${t.url}/generate_data`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'text/html' },
      body: 'start_date=2024-03-01&duration=500',
      redirect: 'manual',
    });
    assert.equal(res.status, 400);
    const locals = JSON.parse(await res.text()) as { view: string; error: string };
    assert.equal(locals.view, 'home');
    assert.equal(locals.error, 'Invalid duration: at most 168 hours (one week)');
  });
});
