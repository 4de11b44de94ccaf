/** Pages get the locals the views contract names (rendered here by views that print their locals). */
import assert from 'node:assert/strict';
import { fmtSize } from '../../src/findings/index.ts';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT, postCsv, startTestApp, type TestApp } from '../helpers/app.ts';
import { flowCsv } from '../helpers/csv.ts';

let t: TestApp;
const ids: string[] = [];

before(async () => {
  t = await startTestApp();
  for (const rows of [150, 160]) {
    const res = await postCsv(t.url, flowCsv({ rows, anomalies: 4 }), { fileName: `flows-${rows}.csv`, fields: { contamination: '0.2' } });
    ids.push(((await res.json()) as { id: string }).id);
  }
});
after(async () => t.close());

async function page(url: string): Promise<{ status: number; locals: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${t.url}${url}`, { headers: { Accept: 'text/html' } });
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  return { status: res.status, locals: JSON.parse(await res.text()) as Record<string, unknown>, headers: res.headers };
}

describe('GET /', () => {
  it('when the home page is asked for, then it gets recent analyses, defaults and the upload limit', async () => {
    const { status, locals } = await page('/');
    assert.equal(status, 200);
    assert.equal(locals.view, 'home');
    assert.equal(locals.currentPath, '/');
    assert.equal(typeof locals.title, 'string');
    assert.deepEqual(locals.defaults, {
      features: ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second', 'retransmission_rate'],
      contamination: 0.05,
      n_estimators: 100,
      random_state: 42,
    });
    assert.equal(locals.maxUploadMb, 512);
    assert.equal(locals.error, null);
    assert.equal(locals.generated, null);
    const recent = locals.recent as { id: string; fileName: string; total_records: number }[];
    assert.deepEqual(new Set(recent.map((r) => r.id)), new Set(ids));
    assert.deepEqual(Object.keys(recent[0]).sort(), ['anomaly_count', 'anomaly_percentage', 'createdAt', 'fileName', 'id', 'incidents', 'total_records']);
  });

  it('when ?generated names no sample, then generated is null', async () => {
    assert.equal((await page('/?generated=../../etc/passwd')).locals.generated, null);
    assert.equal((await page('/?generated=sample_20000101_000000_abcdef.csv')).locals.generated, null);
  });
});

describe('GET /history', () => {
  it('when analyses exist, then they are listed newest first', async () => {
    const { status, locals } = await page('/history');
    assert.equal(status, 200);
    assert.equal(locals.currentPath, '/history');
    const analyses = locals.analyses as { id: string; createdAt: string; fileName: string }[];
    assert.deepEqual(analyses.map((a) => a.id), [...ids].reverse());
    assert.equal(analyses[0].fileName, 'flows-160.csv');
  });
});

describe('GET /analysis/:id', () => {
  it('when the analysis exists, then it gets its summary, a page of anomalies and every link', async () => {
    const id = ids[1];
    const { status, locals } = await page(`/analysis/${id}?page=1&size=25`);
    assert.equal(status, 200);
    assert.equal(locals.summaryId, id);
    assert.equal(locals.currentPath, `/analysis/${id}`);
    assert.equal(locals.page, 1);
    assert.equal(locals.pageSize, 25);
    const total = locals.totalAnomalies as number;
    assert.ok(total >= 4);
    assert.equal(locals.pageCount, Math.ceil(total / 25));
    assert.equal((locals.anomalies as unknown[]).length, Math.min(25, total));
    assert.deepEqual(locals.links, {
      self: `/analysis/${id}`,
      scatter: `/visualization/${id}/scatter`,
      distribution: `/visualization/${id}/distribution`,
      timeline: `/visualization/${id}/timeline`,
      report: `/download/${id}`,
      results: `/download/${id}/results`,
      summaryJson: `/download/${id}/summary`,
      points: `/analysis/${id}/points.json`,
      model: `/analysis/${id}`.replace('/analysis/', '/download/') + '/model',
      incidentFlows: `/download/${id}/incident`,
    });
    assert.equal(locals.incidentFilter, null);
  });

  it('when ?incident= names one of its incidents, then the table gets only that incident\'s anomalies', async () => {
    const id = ids[1];
    const all = (await page(`/analysis/${id}?size=100`)).locals;
    const incidents = all.incidents as { id: string; flows: { row: number }[] }[];
    assert.ok(incidents.length > 0, 'the planted flows make an incident');
    const inc = incidents[0].id;
    const { status, locals } = await page(`/analysis/${id}?incident=${inc}&size=25`);
    assert.equal(status, 200);
    assert.equal(locals.incidentFilter, inc);
    const rows = locals.anomalies as { incidentId: string | null }[];
    const expected = (all.anomalies as { incidentId: string | null }[]).filter((a) => a.incidentId === inc);
    assert.ok(expected.length > 0);
    assert.equal(locals.totalAnomalies, expected.length);
    assert.deepEqual(rows, expected.slice(0, 25));
  });

  it('when ?incident= is unknown or malformed, then 404 or 400', async () => {
    const id = ids[1];
    const unknown = await page(`/analysis/${id}?incident=INC-999`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.locals.message, `Analysis ${id} has no incident INC-999.`);
    const bad = await page(`/analysis/${id}?incident=${encodeURIComponent('../../etc/passwd')}`);
    assert.equal(bad.status, 400);
    assert.match(String(bad.locals.message), /^Invalid incident: an incident id/);
  });

  it('when the id is unknown, then the error page says 404', async () => {
    const { status, locals } = await page('/analysis/20000101_000000_abcdef');
    assert.equal(status, 404);
    assert.deepEqual(locals, {
      view: 'error',
      title: 'Error 404',
      currentPath: '/analysis/20000101_000000_abcdef',
      status: 404,
      message: 'No analysis with id 20000101_000000_abcdef.',
      details: null,
      stack: null,
    });
  });

  it('when the id is malformed, then the error page says 400', async () => {
    const { status, locals } = await page('/analysis/..%2F..%2Fetc');
    assert.equal(status, 400);
    assert.equal(locals.status, 400);
  });
});

describe('real views', () => {
  const realViews = existsSync(path.join(PROJECT_ROOT, 'views', 'pages', 'home.ejs'));
  it('when the project views render the pages, then each answers 200 HTML without inline scripts', { skip: realViews ? false : 'views/pages/*.ejs not present yet' }, async () => {
    const real = await startTestApp({ realViews: true });
    try {
      const res = await postCsv(real.url, flowCsv({ rows: 150, anomalies: 4 }));
      const { id } = (await res.json()) as { id: string };
      for (const url of ['/', '/history', `/analysis/${id}`, '/no-such-page']) {
        const r = await fetch(`${real.url}${url}`, { headers: { Accept: 'text/html' } });
        assert.equal(r.status, url === '/no-such-page' ? 404 : 200, url);
        const html = await r.text();
        assert.match(html, /<html/i, url);
        assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/i, `${url}: inline script`);
      }
      // Sizes as the evidence sentences write them: decimal units (a 1,000-byte kB), 3 significant digits.
      const csv = flowCsv({ rows: 150, anomalies: 4 });
      const page = await (await fetch(`${real.url}/analysis/${id}`, { headers: { Accept: 'text/html' } })).text();
      const size = Buffer.byteLength(csv);
      const shown = `${Number((size / 1000).toPrecision(3))} kB`;
      assert.ok(page.includes(`· ${shown} ·`), `file size ${size} shown as ${shown}`);
      const summary = (await (await fetch(`${real.url}/download/${id}/summary`)).json()) as { incidents: { bytes: number; evidence: string[] }[] };
      assert.ok(summary.incidents.length > 0, 'the sample has incidents');
      let compared = 0;
      for (const inc of summary.incidents) {
        assert.ok(page.includes(`(${fmtSize(inc.bytes)})</dd>`), `incident bytes ${inc.bytes} shown as ${fmtSize(inc.bytes)}`);
        const inEvidence = /^\d[\d,]* flows? \(([^)]+)\)/.exec(inc.evidence[0] ?? '');
        if (inEvidence) {
          assert.equal(inEvidence[1], fmtSize(inc.bytes), 'the page and the evidence write the size alike');
          compared++;
        }
      }
      assert.ok(compared > 0, 'some evidence names the incident size');
    } finally {
      await real.close();
    }
  });
});
