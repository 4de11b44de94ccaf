/** POST /analyze: the happy path, every bad input, concurrency, and what is left on disk and logged. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AnalysisSummary, AnomalyRow } from '../../src/analysis/types.ts';
import { ANALYSIS_ID_PATTERN } from '../../src/analysis/types.ts';
import { getJson, postCsv, startTestApp, type TestApp } from '../helpers/app.ts';
import { flowCsv } from '../helpers/csv.ts';
import { AnalysisQueue } from '../../src/analysis/queue.ts';
import { AnalyzeService, type AnalyzeServiceDeps } from '../../src/web/analyze/service.ts';
import { readAnomalies } from '../helpers/anomalies.ts';

let t: TestApp;
/** A small app (10 KB upload limit) for the size test. */
let small: TestApp;

before(async () => {
  t = await startTestApp();
  small = await startTestApp({ overrides: { server: { max_upload_mb: 0.01 } } });
});
after(async () => {
  await t.close();
  await small.close();
});

async function assertClean(app: TestApp): Promise<void> {
  const { uploads, temp } = await app.leftovers();
  assert.deepEqual(uploads, [], 'no file left in uploads/');
  assert.deepEqual(temp, [], 'no temp folder left in outputs/');
}

async function assertStillServing(app: TestApp): Promise<void> {
  const health = await getJson(`${app.url}/health`);
  assert.equal(health.status, 200);
}

async function errorOf(res: Response): Promise<{ error: string; details?: Record<string, unknown> }> {
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  return (await res.json()) as { error: string; details?: Record<string, unknown> };
}

describe('POST /analyze', () => {
  it('when a valid CSV is uploaded, then it answers the analysis and writes every artifact', async () => {
    const csv = flowCsv({ rows: 300, anomalies: 6 });
    const res = await postCsv(t.url, csv, { fileName: 'my flows.csv', fields: { contamination: '0.02', n_estimators: '50', random_state: '3' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown> & { id: string; statistics: Record<string, number>; top_anomalies: AnomalyRow[] };
    const id = body.id;
    assert.match(id, ANALYSIS_ID_PATTERN);
    assert.equal(body.success, true);
    assert.equal(body.timestamp, id);
    assert.equal(body.fileName, 'my flows.csv');
    assert.deepEqual(body.parameters, {
      features: ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second', 'retransmission_rate'],
      contamination: 0.02,
      nEstimators: 50,
      randomState: 3,
    });
    assert.equal(body.statistics.total_records, 306);
    assert.ok(body.statistics.anomaly_count >= 6 && body.statistics.anomaly_count <= 8, `anomalies: ${body.statistics.anomaly_count}`);
    assert.equal(body.statistics.anomaly_percentage, Math.round((body.statistics.anomaly_count / 306) * 10000) / 100);
    // The six planted flows are the most severe, with their context values.
    const planted = body.top_anomalies.slice(0, 6);
    assert.deepEqual(planted.map((r) => r.row).sort((a, b) => a - b), [300, 301, 302, 303, 304, 305]);
    assert.equal(planted[0].values.source_ip, '10.0.0.66');
    assert.equal(planted[0].values.destination_port, 4444);
    assert.equal(planted[0].line, planted[0].row + 2);
    assert.ok(planted[0].recommendation.length > 10);
    assert.ok(planted.every((r, i) => i === 0 || r.severity <= planted[i - 1].severity));
    const links = {
      page: `/analysis/${id}`,
      report: `/download/${id}`,
      results: `/download/${id}/results`,
      summary: `/download/${id}/summary`,
      model: `/download/${id}/model`,
      scatter: `/visualization/${id}/scatter`,
      distribution: `/visualization/${id}/distribution`,
      timeline: `/visualization/${id}/timeline`,
      points: `/analysis/${id}/points.json`,
      anomalies: `/analysis/${id}/anomalies.json`,
      incidentFlows: `/download/${id}/incident`,
    };
    assert.deepEqual(body.links, links);
    assert.deepEqual(body.visualization_urls, { scatter: links.scatter, distribution: links.distribution, timeline: links.timeline });
    assert.equal(body.download_url, links.report);
    assert.equal(body.analysis_url, links.page);
    assert.ok(Array.isArray(body.recommendations) && Array.isArray(body.incidents));

    // Files on disk: the charts are drawn just after the answer, or when first asked for.
    const charts = ['distribution.png', 'scatter.png', 'timeline.png'];
    const artifacts = ['anomalies.bin', 'anomalies.csv', 'charts.json', 'incidents.bin', 'input.csv', 'model.json', 'points.json', 'results.csv', 'summary.json'];
    const listing = async () => (await readdir(path.join(t.config.paths.outputs, id))).sort();
    assert.deepEqual((await listing()).filter((f) => !f.includes('.png')), artifacts);
    for (const url of Object.values(body.visualization_urls as Record<string, string>)) {
      const res = await fetch(`${t.url}${url}`);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('content-type'), 'image/png');
    }
    assert.deepEqual(await listing(), [...artifacts, ...charts].sort());
    assert.equal(await readFile(path.join(t.config.paths.outputs, id, 'input.csv'), 'utf8'), csv);
    const summary = JSON.parse(await readFile(path.join(t.config.paths.outputs, id, 'summary.json'), 'utf8')) as AnalysisSummary;
    assert.equal(summary.id, id);
    assert.equal(summary.fileBytes, Buffer.byteLength(csv));
    // summary.json is written before the rename, so it holds every step but the commit.
    assert.deepEqual(Object.keys(summary.timings), ['move', 'parse', 'fit', 'explain', 'findings', 'rows', 'charts', 'reports', 'write']);
    const rows = await readAnomalies(path.join(t.config.paths.outputs, id));
    assert.equal(rows.length, body.statistics.anomaly_count);
    const results = (await readFile(path.join(t.config.paths.outputs, id, 'results.csv'), 'utf8')).trim().split('\n');
    assert.equal(results.length, 307);
    await assertClean(t);

    // Logged: start and finish lines carry the analysis id, and an access line.
    const finished = t.memory.find('analysis finished');
    assert.equal(finished.length, 1);
    assert.equal(finished[0].analysisId, id);
    assert.equal(t.memory.find('analysis started')[0].analysisId, id);
    const access = t.memory.entries.find((e) => e.url === '/analyze');
    assert.equal(access?.status, 200);
    assert.equal(access?.analysisId, id);
  });

  it('when the form gives other features and contamination auto, then they are used', async () => {
    const res = await postCsv(t.url, flowCsv({ rows: 200 }), { fields: { features: 'bytes_transferred, packet_count', contamination: 'auto' } });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { parameters: { features: string[]; contamination: unknown; nEstimators: number } };
    assert.deepEqual(body.parameters.features, ['bytes_transferred', 'packet_count']);
    assert.equal(body.parameters.contamination, 'auto');
    assert.equal(body.parameters.nEstimators, 100);
  });

  it('when 3 analyses are posted at once, then each gets a distinct id', async () => {
    const csv = flowCsv({ rows: 120, anomalies: 3 });
    const answers = await Promise.all([0, 1, 2].map(() => postCsv(t.url, csv)));
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { id: string }).id));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200]);
    assert.equal(new Set(ids).size, 3);
    for (const id of ids) assert.ok(existsSync(path.join(t.config.paths.outputs, id, 'summary.json')));
    await assertClean(t);
  });

  it('when no file is sent, then 400 says to choose a file', async () => {
    const res = await postCsv(t.url, null, { fields: { contamination: '0.1' } });
    assert.equal(res.status, 400);
    assert.deepEqual(await errorOf(res), { error: 'No file uploaded: choose a CSV file (form field "file").' });
    await assertClean(t);
  });

  it('when the body is not multipart at all, then 400', async () => {
    const res = await fetch(`${t.url}/analyze`, { method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 400);
    assert.equal((await errorOf(res)).error, 'No file uploaded: choose a CSV file (form field "file").');
  });

  it('when the file is not a CSV, then 415 and nothing is stored', async () => {
    const res = await postCsv(t.url, new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { fileName: 'picture.png', type: 'image/png' });
    assert.equal(res.status, 415);
    const body = await errorOf(res);
    assert.match(body.error, /Unsupported file type: upload a \.csv file/);
    assert.deepEqual(body.details, { mimeType: 'image/png' });
    await assertClean(t);
    await assertStillServing(t);
  });

  it('when the file goes in another field, then 400 names the field', async () => {
    const res = await postCsv(t.url, flowCsv({ rows: 10 }), { field: 'upload' });
    assert.equal(res.status, 400);
    const body = await errorOf(res);
    assert.deepEqual(body.details, { code: 'LIMIT_UNEXPECTED_FILE', field: 'upload' });
    await assertClean(t);
  });

  it('when the file is empty, then 422 at line 1', async () => {
    const res = await postCsv(t.url, '');
    assert.equal(res.status, 422);
    assert.deepEqual(await errorOf(res), { error: 'The file is empty.', details: { line: 1, column: null, columnName: null } });
    await assertClean(t);
  });

  it('when the file has only a header, then 422', async () => {
    const res = await postCsv(t.url, flowCsv({ rows: 0, anomalies: 0 }));
    assert.equal(res.status, 422);
    const body = await errorOf(res);
    assert.equal(typeof body.details?.line, 'number');
    await assertClean(t);
  });

  it('when a required column is missing, then 422 names it', async () => {
    const header = ['timestamp', 'source_ip', 'bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second'];
    const res = await postCsv(t.url, flowCsv({ rows: 20, header }));
    assert.equal(res.status, 422);
    const body = await errorOf(res);
    assert.match(body.error, /retransmission_rate/);
    assert.equal(body.details?.line, 1);
    await assertClean(t);
  });

  it('when a value is not numeric, then 422 gives its line and column', async () => {
    const csv = flowCsv({ rows: 30, cell: (row, col, v) => (row === 9 && col === 'packet_count' ? 'lots' : v) });
    const res = await postCsv(t.url, csv);
    assert.equal(res.status, 422);
    const body = await errorOf(res);
    assert.deepEqual(body.details, { line: 11, column: 8, columnName: 'packet_count' });
    assert.match(body.error, /lots/);
    await assertClean(t);
    await assertStillServing(t);
  });

  it('when a row has too many fields, then 422 gives its line', async () => {
    const lines = flowCsv({ rows: 30 }).split('\n');
    lines[5] += ',1,2';
    const res = await postCsv(t.url, lines.join('\n'));
    assert.equal(res.status, 422);
    const body = await errorOf(res);
    assert.equal(body.details?.line, 6);
    await assertClean(t);
  });

  it('when the form names a feature the CSV lacks, then 422 names the column', async () => {
    const res = await postCsv(t.url, flowCsv({ rows: 30 }), { fields: { features: 'bytes_transferred,jitter' } });
    assert.equal(res.status, 422);
    assert.match((await errorOf(res)).error, /jitter/);
    await assertClean(t);
  });

  for (const [field, value, message] of [
    ['contamination', '0.7', /Invalid contamination/],
    ['contamination', 'lots', /Invalid contamination/],
    ['n_estimators', '0', /Invalid n_estimators/],
    ['n_estimators', '1001', /Invalid n_estimators/],
    ['n_estimators', '2.5', /Invalid n_estimators/],
    ['random_state', '-1', /Invalid random_state/],
    ['features', 'a,a', /Invalid features: feature columns must be distinct/],
    ['features', '../etc/passwd', /Invalid features/],
  ] as const) {
    it(`when ${field} is ${JSON.stringify(value)}, then 400 names the field`, async () => {
      const res = await postCsv(t.url, flowCsv({ rows: 20 }), { fields: { [field]: value } });
      assert.equal(res.status, 400);
      const body = await errorOf(res);
      assert.match(body.error, message);
      assert.equal((body.details?.issues as { field: string }[])[0].field.split('.')[0], field);
      await assertClean(t);
    });
  }

  it('when the file is over the size limit, then 413 and no partial file remains', async () => {
    const csv = flowCsv({ rows: 400 }); // ~40 KB > 10 KB
    const res = await postCsv(small.url, csv);
    assert.equal(res.status, 413);
    assert.deepEqual(await errorOf(res), {
      error: 'The file is larger than the upload limit of 0.01 MB.',
      details: { code: 'LIMIT_FILE_SIZE', limitMb: 0.01 },
    });
    await assertClean(small);
    await assertStillServing(small);
    const ok = await postCsv(small.url, flowCsv({ rows: 60, anomalies: 2 }));
    assert.equal(ok.status, 200);
  });

  it('when the queue is full, then 503 with Retry-After, no leftovers, and the next one is served', async () => {
    const busy = await startTestApp({ maxWaiting: 0 });
    try {
      let release!: () => void;
      const running = busy.queue.run(() => new Promise<void>((r) => (release = r)));
      const res = await postCsv(busy.url, flowCsv({ rows: 50 }));
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '5');
      assert.deepEqual(await errorOf(res), {
        error: 'The server is busy: 0 analyses are already waiting (limit 0). Try again shortly.',
        details: { waiting: 0, limit: 0 },
      });
      await assertClean(busy);
      release();
      await running;
      assert.equal((await postCsv(busy.url, flowCsv({ rows: 50 }))).status, 200);
    } finally {
      await busy.close();
    }
  });

  it('when a browser form posts (Accept text/html), then 303 to the analysis page', async () => {
    const res = await postCsv(t.url, flowCsv({ rows: 100 }), { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location') ?? '', /^\/analysis\/\d{8}_\d{6}_[0-9a-f]{6}$/);
  });

  it('when a browser form post fails, then the home page is shown again with the error', async () => {
    const res = await postCsv(t.url, '', { accept: 'text/html' });
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    const locals = JSON.parse(await res.text()) as Record<string, unknown>;
    assert.equal(locals.view, 'home');
    assert.equal(locals.error, 'The file is empty.');
    assert.equal(locals.currentPath, '/');
    await assertClean(t);
  });
});

/** POST /analyze with the form parts in the given order (the file as its own part). */
async function postParts(app: TestApp, parts: readonly (readonly [string, string])[], csv: string): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of parts) {
    if (name === 'file') form.append('file', new Blob([csv], { type: 'text/csv' }), 'flows.csv');
    else form.append(name, value);
  }
  return fetch(`${app.url}/analyze`, { method: 'POST', body: form, headers: { Accept: 'application/json' } });
}

/** Whether the analysis's parse step found the table parsed during the upload. */
function parsedDuringUpload(app: TestApp, id: string): unknown {
  const step = app.memory.entries.find((e) => e.step === 'parse' && e.analysisId === id);
  assert.ok(step, `a parse step logged for ${id}`);
  return step.parsedBefore;
}

describe('POST /analyze: parsing while uploading', () => {
  const csv = flowCsv({ rows: 3000, anomalies: 12, seed: 5 });
  const fields = [
    ['features', 'bytes_transferred, packet_count, connection_duration'],
    ['contamination', '0.01'],
    ['n_estimators', '40'],
  ] as const;

  async function artifacts(app: TestApp, id: string) {
    const read = (name: string) => readFile(path.join(app.config.paths.outputs, id, name), 'utf8');
    const summary = JSON.parse(await read('summary.json')) as AnalysisSummary;
    return {
      anomalies: await readAnomalies(path.join(app.config.paths.outputs, id)),
      anomaliesCsv: await read('anomalies.csv'),
      results: await read('results.csv'),
      input: await read('input.csv'),
      statistics: summary.statistics,
      warnings: summary.warnings,
      // (Mitigation commands carry an expiry from the wall clock: compare what the incidents cover.)
      incidents: summary.incidents.map((i) => ({ id: i.id, type: i.type, rows: i.rows })),
      parameters: summary.parameters,
    };
  }

  it('when the fields come before the file, then it is parsed as it arrives, with the same analysis as a parse from disk (fields after the file)', async () => {
    const before = await postParts(t, [...fields, ['file', '']], csv);
    const after = await postParts(t, [['file', ''], ...fields], csv);
    assert.deepEqual([before.status, after.status], [200, 200]);
    const a = (await before.json()) as { id: string };
    const b = (await after.json()) as { id: string };
    assert.equal(parsedDuringUpload(t, a.id), true);
    assert.equal(parsedDuringUpload(t, b.id), false, 'features arrived after the file: parsed from disk');
    const x = await artifacts(t, a.id);
    assert.deepEqual(x.parameters.features, ['bytes_transferred', 'packet_count', 'connection_duration']);
    assert.equal(x.statistics.total_records, 3012);
    assert.equal(x.input, csv);
    assert.deepEqual(x, await artifacts(t, b.id));
    await assertClean(t);
  });

  it('when the upload spans several disk writes, then input.csv holds it byte for byte', async () => {
    const big = flowCsv({ rows: 40_000, anomalies: 20, seed: 9 });
    assert.ok(Buffer.byteLength(big) > 3 * 1024 * 1024, `${Buffer.byteLength(big)} bytes: several 1 MiB writes`);
    const res = await postParts(t, [...fields, ['file', '']], big);
    assert.equal(res.status, 200);
    const { id, statistics } = (await res.json()) as { id: string; statistics: { total_records: number } };
    assert.equal(await readFile(path.join(t.config.paths.outputs, id, 'input.csv'), 'utf8'), big);
    assert.equal(statistics.total_records, 40_020);
    await assertClean(t);
  });

  it('when the CSV has a BOM, CRLF line ends and quoted text, then the parse while uploading keeps the rows and their offsets', async () => {
    const lf = flowCsv({ rows: 200, anomalies: 4, cell: (row, col, v) => (col === 'protocol' && row % 7 === 0 ? `"${v}, ""quoted""\nline"` : v) });
    const crlf = `\ufeff${lf.replaceAll('\n', '\r\n')}`;
    const first = await postParts(t, [['file', '']], crlf);
    assert.equal(first.status, 200);
    const body = (await first.json()) as { id: string; statistics: { total_records: number } };
    assert.equal(parsedDuringUpload(t, body.id), true);
    assert.equal(body.statistics.total_records, 204);
    // results.csv copies each row's source text through rowOffsets: the quoted line breaks survive.
    const results = await readFile(path.join(t.config.paths.outputs, body.id, 'results.csv'), 'utf8');
    assert.ok(results.includes('"TCP, ""quoted""\r\nline"'), 'quoted protocol copied as written');
    const anomalies = await readAnomalies(path.join(t.config.paths.outputs, body.id));
    assert.ok(anomalies.some((r) => r.values.protocol === 'TCP, "quoted"\r\nline'), 'a quoted protocol among the anomalies');
    await assertClean(t);
  });

  it('when a value is bad past the first rows, then the parse while uploading gives up and the 422 is the one from disk', async () => {
    const bad = flowCsv({ rows: 3000, cell: (row, col, v) => (row === 2500 && col === 'bytes_per_packet' ? 'lots' : v) });
    const res = await postParts(t, [['file', '']], bad);
    assert.equal(res.status, 422);
    const body = await errorOf(res);
    assert.deepEqual(body.details, { line: 2502, column: 10, columnName: 'bytes_per_packet' });
    assert.match(body.error, /expected a number, got "lots"/);
    await assertClean(t);
  });

  it('when two uploads start while the queue is idle, then only one holds a parse claim until its analysis starts or its request ends', async () => {
    const queue = new AnalysisQueue({ concurrency: 1, maxWaiting: 8 });
    const service = new AnalyzeService({ queue } as unknown as AnalyzeServiceDeps);
    const first = service.claimParse();
    assert.ok(first, 'the first upload may parse while it arrives');
    assert.equal(service.claimParse(), null, 'a second one may not: it would wait holding a parsed table');
    first();
    first(); // releasing twice is harmless
    const again = service.claimParse();
    assert.ok(again, 'free again once released');
    again();
  });

  it('when two uploads arrive together, then at most one is parsed while uploading', async () => {
    const app = await startTestApp();
    try {
      const csv = flowCsv({ rows: 3000, anomalies: 12, seed: 9 });
      const [a, b] = await Promise.all([postParts(app, [['file', '']], csv), postParts(app, [['file', '']], csv)]);
      assert.equal(a.status, 200);
      assert.equal(b.status, 200);
      const ids = [((await a.json()) as { id: string }).id, ((await b.json()) as { id: string }).id];
      assert.ok(ids.filter((id) => parsedDuringUpload(app, id) === true).length <= 1);
      await assertClean(app);
    } finally {
      await app.close();
    }
  });

  it('when a client disconnects while its upload waits in the queue, then its analysis is skipped without an error and the next one is served', async () => {
    const busy = await startTestApp();
    try {
      let release!: () => void;
      const running = busy.queue.run(() => new Promise<void>((r) => (release = r)));
      const abort = new AbortController();
      const form = new FormData();
      form.append('file', new Blob([flowCsv({ rows: 80, anomalies: 2 })], { type: 'text/csv' }), 'flows.csv');
      const gone = fetch(`${busy.url}/analyze`, { method: 'POST', body: form, headers: { Accept: 'application/json' }, signal: abort.signal });
      while (busy.queue.waiting === 0) await new Promise((r) => setTimeout(r, 10));
      abort.abort();
      await assert.rejects(gone);
      await new Promise((r) => setTimeout(r, 50)); // the server sees the socket close
      release();
      await running;
      while (busy.queue.running > 0 || busy.queue.waiting > 0) await new Promise((r) => setTimeout(r, 10));
      assert.equal(busy.memory.find('analysis skipped: the client disconnected').length, 1);
      assert.deepEqual(busy.memory.entries.filter((e) => e.level === 'error'), [], 'nothing logged as an error');
      const next = await postParts(busy, [['file', '']], flowCsv({ rows: 80, anomalies: 2 }));
      assert.equal(next.status, 200);
      await assertClean(busy);
    } finally {
      await busy.close();
    }
  });

  it('when the queue is busy, then the waiting upload is not parsed ahead: it is parsed from disk when its turn comes', async () => {
    const busy = await startTestApp();
    try {
      let release!: () => void;
      const running = busy.queue.run(() => new Promise<void>((r) => (release = r)));
      const pending = postParts(busy, [['file', '']], flowCsv({ rows: 80, anomalies: 2 }));
      while (busy.queue.waiting === 0) await new Promise((r) => setTimeout(r, 10));
      release();
      await running;
      const res = await pending;
      assert.equal(res.status, 200);
      const { id } = (await res.json()) as { id: string };
      assert.equal(parsedDuringUpload(busy, id), false);
      await assertClean(busy);
    } finally {
      await busy.close();
    }
  });
});

