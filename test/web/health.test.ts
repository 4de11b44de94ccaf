/** /health, security headers, static files, 404. */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { getJson, PROJECT_ROOT, startTestApp, type TestApp } from '../helpers/app.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(async () => t.close());

describe('GET /health', () => {
  it('when asked, then it answers ok with uptime, version and the queue', async () => {
    const res = await getJson(`${t.url}/health`);
    assert.equal(res.status, 200);
    const body = res.body as { status: string; uptime: number; version: string; queue: unknown };
    const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.version, pkg.version);
    assert.ok(body.uptime >= 0);
    assert.deepEqual(body.queue, { running: 0, waiting: 0 });
  });

  it('when any answer goes out, then it carries the security headers and no X-Powered-By', async () => {
    const res = await fetch(`${t.url}/health`);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /object-src 'none'/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('x-powered-by'), null);
  });

  it('when an access line is logged, then it goes through the app logger', async () => {
    await fetch(`${t.url}/health?probe=1`);
    const line = t.memory.entries.find((e) => e.url === '/health?probe=1');
    assert.ok(line);
    assert.equal(line.status, 200);
    assert.equal(line.method, 'GET');
  });
});

describe('static files', () => {
  it('when Bootstrap and Chart.js are asked for, then they come from node_modules', async () => {
    const css = await fetch(`${t.url}/static/bootstrap/css/bootstrap.min.css`);
    assert.equal(css.status, 200);
    assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    const chart = await fetch(`${t.url}/static/chart.js/chart.umd.min.js`);
    assert.equal(chart.status, 200);
    assert.match(chart.headers.get('content-type') ?? '', /javascript/);
  });

  it('when a path climbs out of static, then 404', async () => {
    const res = await fetch(`${t.url}/static/..%2F..%2Fpackage.json`);
    assert.notEqual(res.status, 200);
  });
});

describe('404', () => {
  it('when an API client asks for an unknown route, then 404 JSON', async () => {
    const res = await getJson(`${t.url}/api/nothing`);
    assert.equal(res.status, 404);
    assert.deepEqual(res.body, { error: 'Not found: GET /api/nothing' });
  });

  it('when a browser asks for an unknown page, then the error page says 404', async () => {
    const res = await fetch(`${t.url}/nothing`, { headers: { Accept: 'text/html' } });
    assert.equal(res.status, 404);
    const locals = JSON.parse(await res.text()) as Record<string, unknown>;
    assert.equal(locals.view, 'error');
    assert.equal(locals.message, 'Not found: GET /nothing');
    assert.equal(locals.stack, null);
  });

  it('when the method is wrong, then 404', async () => {
    assert.equal((await getJson(`${t.url}/analyze`)).status, 404);
  });
});
