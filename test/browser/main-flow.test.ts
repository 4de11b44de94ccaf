/**
 * The main flow in headless chromium against the real app (in-process, port 0): generate sample
 * data, download it, upload it through the form, read the analysis page, download the report.
 * Screenshots at desktop (1366×900) and phone (390×844) widths go to test-results/flow-*.png.
 * Skips when no chromium binary is found.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { chartScaleTypes, collectProblems, DESKTOP, launchBrowser, NO_CHROMIUM, PHONE, recordWhileShown, screenshot, waitForCharts, waitForImages, type HTMLDetailsElement } from './helpers.ts';

const num = (text: string | null) => Number((text ?? '').replace(/[^\d.]/g, ''));

describe('main flow in a browser', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  let app: TestApp;
  let tmp: string;
  before(async () => {
    app = await startTestApp({ realViews: true });
    browser = await launchBrowser();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-browser-'));
  });
  after(async () => {
    await browser?.close();
    await app?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('when a user generates data, uploads it and opens the report, then every part of the analysis shows', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    const page = await context.newPage();
    const problems = collectProblems(page);

    // Home.
    await page.goto(app.url + '/');
    assert.equal(await page.title(), 'Network traffic anomaly detection · FlowSentry');
    assert.match((await page.locator('.fs-empty').textContent()) ?? '', /No analyses yet/);
    await screenshot(page, 'flow-1-home-desktop');

    // Generate three hours of traffic with a fixed seed.
    await page.fill('#start_date', '2024-03-01');
    await page.fill('#duration', '3');
    await page.fill('#seed', '7');
    await page.click('#generate-submit');
    const link = page.locator('#generated-download');
    await link.waitFor({ timeout: 60_000 });
    const generatedText = (await page.locator('#generate-alert').textContent()) ?? '';
    const match = /Generated ([\d,]+) flows/.exec(generatedText);
    assert.ok(match, `generated message: ${generatedText}`);
    const records = num(match[1]);
    assert.ok(records > 100, `generated ${records} rows`);
    assert.match((await link.getAttribute('href')) ?? '', /^\/download_sample\/sample_\d{8}_\d{6}_[0-9a-f]{6}\.csv$/);
    await screenshot(page, 'flow-2-generated-desktop');

    // Download the sample through the link.
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const samplePath = path.join(tmp, download.suggestedFilename());
    await download.saveAs(samplePath);
    const sample = await readFile(samplePath, 'utf8');
    const sampleHeader = sample.slice(0, sample.indexOf('\n'));
    assert.match(sampleHeader, /bytes_transferred/);
    assert.equal(sample.trim().split('\n').length - 1, records);

    // Upload it with the upload form; the progress area must appear before the page changes.
    const progressSeen = await recordWhileShown(page, 'upload-progress', 'upload-status');
    await page.setInputFiles('#file', samplePath);
    await Promise.all([page.waitForURL(/\/analysis\/\d{8}_\d{6}_[0-9a-f]{6}$/, { timeout: 120_000 }), page.click('#upload-submit')]);
    await page.waitForLoadState('load');

    assert.ok(progressSeen.length > 0, 'the progress area was shown');
    assert.ok(progressSeen.some((t) => /^(Uploading|Analyzing|Done)/.test(t)), `progress messages: ${progressSeen.join(' | ')}`);

    // Numbers.
    assert.equal(num(await page.locator('#stat-total').textContent()), records);
    const anomalies = num(await page.locator('#stat-anomalies').textContent());
    assert.ok(anomalies > 0 && anomalies < records, `anomalies ${anomalies}`);
    const pct = num(await page.locator('#stat-percentage').textContent());
    assert.ok(Math.abs(pct - (anomalies / records) * 100) < 0.01, `percentage ${pct}`);
    assert.match((await page.locator('#analysis-title').textContent()) ?? '', /^sample_.*\.csv$/);

    // Images (server PNGs) loaded, and the interactive charts drawn.
    const [scatterImageWidth] = await waitForImages(page, ['img-scatter', 'img-distribution', 'img-timeline']);
    assert.equal(scatterImageWidth, 1200);
    const [scatter, timeline] = await waitForCharts(page, ['scatter-chart', 'timeline-chart']);
    assert.ok(scatter[0] > 0 && timeline[1] > 0, `points drawn: anomalies ${scatter[0]}, flow buckets ${timeline[1]}`);
    assert.equal(await page.locator('#no-timeline').count(), 0);
    // The interactive scatter uses the axes the server chose for the image (points.json says which).
    const pointsUrl = await page.locator('#scatter-chart').getAttribute('data-points-url');
    const stored = (await (await fetch(new URL(pointsUrl!, page.url()))).json()) as { logX: boolean; logY: boolean };
    const scaleType = (log: boolean) => (log ? 'logarithmic' : 'linear');
    assert.deepEqual(await chartScaleTypes(page, 'scatter-chart'), { x: scaleType(stored.logX), y: scaleType(stored.logY) });

    // Anomaly table, incidents, recommendations.
    const rows = await page.locator('#anomaly-table tbody tr').count();
    assert.equal(rows, Math.min(25, anomalies));
    const firstSeverity = num(await page.locator('#anomaly-table tbody tr').first().locator('.fs-sev').textContent());
    const lastSeverity = num(await page.locator('#anomaly-table tbody tr').last().locator('.fs-sev').textContent());
    assert.ok(firstSeverity >= lastSeverity, 'most severe first');
    const incidents = await page.locator('details.fs-incident').count();
    const recommendations = await page.locator('#recommendations .fs-rec').count();
    assert.ok(incidents + recommendations > 0, 'incidents or recommendations are shown');
    if (incidents > 0) {
      assert.equal(await page.locator('details.fs-incident').first().evaluate((d) => (d as HTMLDetailsElement).open), true);
      assert.ok((await page.locator('details.fs-incident').first().locator('.fs-dl').count()) === 1);
    }
    // Expanding an incident shows its evidence flows and the link to all of them.
    assert.ok(incidents >= 2, `the generated attacks make incidents (${incidents})`);
    const second = page.locator('details.fs-incident').nth(1);
    const flowTable = second.locator('table.fs-flow-table');
    assert.equal(await flowTable.isVisible(), false);
    await second.locator('summary').click();
    await flowTable.waitFor({ state: 'visible' });
    const flowCount = num(/^([\d,]+) flows/.exec((await second.locator('summary .text-nowrap').last().textContent()) ?? '')?.[1] ?? null);
    assert.equal(await flowTable.locator('tbody tr').count(), Math.min(10, flowCount));
    assert.match((await flowTable.locator('tbody tr').first().locator('td').nth(2).textContent()) ?? '', /\d+\.\d+\.\d+\.\d+:\d+\s*→ \d+\.\d+\.\d+\.\d+:\d+/);
    assert.equal(await second.locator('a.fs-incident-csv').textContent(), `All ${flowCount.toLocaleString('en-US')} flows (CSV)`);
    await screenshot(page, 'flow-3-analysis-desktop');

    // The anomaly report CSV: the upload's header plus the report columns.
    const [report] = await Promise.all([page.waitForEvent('download'), page.click('#download-report')]);
    const reportPath = path.join(tmp, 'report.csv');
    await report.saveAs(reportPath);
    const reportText = await readFile(reportPath, 'utf8');
    const reportHeader = reportText.slice(0, reportText.indexOf('\n'));
    assert.ok(reportHeader.startsWith(sampleHeader), `report header: ${reportHeader}`);
    for (const column of ['anomaly_score', 'severity']) assert.ok(reportHeader.split(',').includes(column), `report has ${column}`);
    assert.equal(reportText.trim().split('\n').length - 1, anomalies);

    // The expanded incident's CSV: every one of its flows.
    const [incidentCsv] = await Promise.all([page.waitForEvent('download'), second.locator('a.fs-incident-csv').click()]);
    const incidentPath = path.join(tmp, 'incident.csv');
    await incidentCsv.saveAs(incidentPath);
    const incidentLines = (await readFile(incidentPath, 'utf8')).trim().split('\n');
    assert.ok(incidentLines[0].startsWith(sampleHeader) && incidentLines[0].endsWith(',incident_id,reason'), `incident CSV header: ${incidentLines[0]}`);
    assert.equal(incidentLines.length - 1, flowCount);

    // Phone width.
    await page.setViewportSize(PHONE);
    await screenshot(page, 'flow-4-analysis-phone');
    await page.goto(app.url + '/');
    assert.equal(await page.locator('section[aria-labelledby="recent-title"] tbody tr').count(), 1);
    await screenshot(page, 'flow-5-home-phone');
    await page.goto(app.url + '/history');
    assert.equal(await page.locator('#history-table tbody tr').count(), 1);

    assert.deepEqual(problems, []);
    await context.close();
  });

  test('when a user uploads a broken CSV, then a readable alert explains it and the page stays', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    const problems = collectProblems(page);
    const bad = path.join(tmp, 'broken.csv');
    const header = 'bytes_transferred,packet_count,connection_duration,bytes_per_packet,packets_per_second,retransmission_rate';
    await writeFile(bad, `${header}\n1000,10,1.5,100,6.7,0\n2000,20\n`);
    await page.goto(app.url + '/');
    await page.setInputFiles('#file', bad);
    await page.click('#upload-submit');
    const alert = page.locator('#upload-alert .alert-danger');
    await alert.waitFor({ timeout: 30_000 });
    const text = (await alert.textContent()) ?? '';
    assert.ok(!text.includes('{') && !/\bat .*\.ts:\d+/.test(text), `no JSON or stack: ${text}`);
    assert.match(text, /line 3/i);
    assert.ok(page.url().endsWith('/'), 'still on the home page');
    assert.equal(await page.locator('#upload-progress').evaluate((e) => e.classList.contains('d-none')), true);
    assert.equal(await page.locator('#upload-submit').isEnabled(), true);
    await screenshot(page, 'flow-6-bad-upload-desktop');
    // Chromium logs the failed request (4xx) as a console error; nothing else may appear.
    assert.deepEqual(problems.filter((p) => !/status of 4\d\d/.test(p)), []);
    await page.close();
  });
});
