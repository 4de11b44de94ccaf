/**
 * The views rendered from sample locals (preview server: same static mounts and CSP as the app),
 * in headless chromium at desktop and phone widths. Screenshots go to test-results/pages-*.png.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { incidentLanes } from '../../src/charts/index.ts';
import { createPreviewApp } from './preview.ts';
import {
  chartPoint,
  collectProblems,
  DESKTOP,
  launchBrowser,
  listen,
  NO_CHROMIUM,
  PHONE,
  screenshot,
  timelineLanes,
  waitForChartTooltip,
  waitForCharts,
  waitForImages,
  type HTMLDetailsElement,
  type HTMLElement,
  type Listening,
} from './helpers.ts';

describe('pages rendered from sample data', { skip: NO_CHROMIUM }, () => {
  let browser: Browser;
  let server: Listening;
  before(async () => {
    server = await listen(createPreviewApp());
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(path: string, viewport: { width: number; height: number } = DESKTOP): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport });
    const problems = collectProblems(page);
    const res = await page.goto(server.url + path, { waitUntil: 'load' });
    assert.ok(res, `no response for ${path}`);
    return { page, problems };
  }

  test('home: both forms, advanced settings pre-filled, recent analyses listed', async () => {
    const { page, problems } = await open('/');
    assert.equal(await page.locator('h2#upload-title').textContent(), 'Upload Network Traffic Data');
    assert.equal(await page.locator('h2#generate-title').textContent(), 'Generate Sample Data');
    assert.equal(await page.inputValue('#features'), 'bytes_transferred,packet_count,connection_duration');
    assert.equal(await page.inputValue('#contamination'), '0.05');
    assert.equal(await page.inputValue('#n_estimators'), '100');
    assert.equal(await page.locator('section[aria-labelledby="recent-title"] tbody tr').count(), 5);
    assert.equal(await page.locator('nav .nav-link.active').textContent(), 'Analyze');
    await screenshot(page, 'pages-home-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'pages-home-phone');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('home: an empty file choice shows a readable alert, not a request', async () => {
    const { page } = await open('/?empty=1');
    assert.match((await page.locator('.fs-empty').textContent()) ?? '', /No analyses yet/);
    await page.click('#upload-submit');
    assert.match((await page.locator('#upload-alert .alert-danger').textContent()) ?? '', /Choose a file first/);
    await page.close();
  });

  test('home: an error local shows as an alert', async () => {
    const { page } = await open('/?error=' + encodeURIComponent('The file is empty.'));
    assert.match((await page.locator('#page-error').textContent()) ?? '', /The file is empty\./);
    await page.close();
  });

  test('analysis: numbers, incidents, images, interactive charts, table, pagination', async () => {
    const { page, problems } = await open('/analysis/20240115_083000_abc123?page=2&size=25');
    assert.equal(await page.locator('#stat-total').textContent(), '12,260');
    assert.equal(await page.locator('#stat-anomalies').textContent(), '613');
    assert.equal(await page.locator('#stat-percentage').textContent(), '5.00%');
    // Incidents: most severe first, first one open, rules with copy buttons, generic badge on the second.
    const incidents = page.locator('details.fs-incident');
    assert.equal(await incidents.count(), 2);
    assert.equal(await incidents.nth(0).getAttribute('id'), 'inc-INC-001');
    assert.equal(await incidents.nth(0).evaluate((d) => (d as HTMLDetailsElement).open), true);
    assert.equal(await incidents.nth(1).evaluate((d) => (d as HTMLDetailsElement).open), false);
    assert.match((await page.locator('#rule-INC-001-nftables').textContent()) ?? '', /^nft add rule inet filter input ip saddr 203\.0\.113\.45 drop/);
    assert.equal(await incidents.nth(1).locator('text=generic advice').count(), 1);
    // Evidence flows of the open incident: a table of its most severe flows, with the CSV of all of them.
    const flows = page.locator('#flows-INC-001 table.fs-flow-table tbody tr');
    assert.equal(await flows.count(), 10);
    assert.equal(await page.locator('#flows-INC-001 table.fs-flow-table').isVisible(), true);
    assert.match((await flows.first().locator('td').nth(2).textContent()) ?? '', /203\.0\.113\.45:51000\s*→ 10\.0\.0\.12:22/);
    assert.equal(await flows.first().locator('.fs-sev').textContent(), '96');
    assert.equal(await page.locator('#flows-INC-001 .fs-by-detector:visible').count(), 7);
    assert.equal(await page.locator('#flows-INC-001 .fs-by-behaviour:visible').count(), 3);
    const reason = flows.nth(2).locator('td.fs-reason-cell .fs-reason');
    assert.equal(await reason.getAttribute('title'), 'One of 412 ports 203.0.113.45 probed on 10.0.0.12 within 18 minutes (baseline 3).');
    assert.match((await page.locator('#flows-INC-001 h3').textContent()) ?? '', /most severe 10 of 412/);
    const csvLink = page.locator('#flows-INC-001 a.fs-incident-csv');
    assert.equal(await csvLink.textContent(), 'All 412 flows (CSV)');
    assert.equal(await csvLink.getAttribute('href'), '/download/20240115_083000_abc123/incident/INC-001');
    assert.equal(await page.locator('#flows-INC-001 a.fs-show-in-table').getAttribute('href'), '/analysis/20240115_083000_abc123?incident=INC-001&size=25#anomalies');
    // The closed incident's table shows when it is expanded.
    assert.equal(await page.locator('#flows-INC-002 table').isVisible(), false);
    await incidents.nth(1).locator('summary').click();
    assert.equal(await incidents.nth(1).evaluate((d) => (d as HTMLDetailsElement).open), true);
    assert.equal(await page.locator('#flows-INC-002 table').isVisible(), true);
    assert.equal(await page.locator('#flows-INC-002 tbody tr').count(), 9);
    assert.match((await page.locator('#flows-INC-002 h3').textContent()) ?? '', /all 9/);
    // Images (the inactive tab's too) and the two interactive charts.
    assert.deepEqual(await waitForImages(page, ['img-scatter', 'img-distribution', 'img-timeline']), [1200, 1200, 1200]);
    const [scatter] = await waitForCharts(page, ['scatter-chart', 'timeline-chart']);
    assert.deepEqual(scatter, [150, 2850]);
    // The timeline's incident lanes are the shared placement (public/js/lanes.js, the server image's
    // too) for the page's own geometry: 6 lanes at this width, about 70 px apart.
    const { lanes, timeline, width } = await timelineLanes(page);
    const first = timeline.buckets[0][0];
    const span = timeline.buckets[timeline.buckets.length - 1][0] + timeline.bucketMs - first;
    const timed = timeline.incidents.map(([id, firstSeen, lastSeen, severity]) => ({ id, firstSeen, lastSeen, severity }));
    assert.ok(width >= 500 && timed.length === 2, `canvas ${width}px, ${timed.length} incidents`);
    assert.deepEqual(lanes, incidentLanes(timed, 6, (span * 70) / Math.max(200, width - 80)));
    assert.deepEqual(lanes.map((l) => l.id), ['INC-001', 'INC-002']);
    // Hovering an anomaly shows its row in the tooltip.
    await page.locator('#scatter-chart').scrollIntoViewIfNeeded();
    const pos = await chartPoint(page, 'scatter-chart', 0, 0);
    await page.mouse.move(pos.x, pos.y);
    await waitForChartTooltip(page, 'scatter-chart', /^Row \d+ · ANOMALY$/);
    // Table: page 2 of 25 rows, ranks 26.., pagination links keep the size.
    const rows = page.locator('#anomaly-table tbody tr');
    assert.equal(await rows.count(), 25);
    assert.match((await rows.first().locator('td').first().textContent()) ?? '', /^\s*26/);
    assert.equal(await page.locator('.pagination .active .page-link').textContent(), '2');
    assert.equal(await page.locator('.pagination a[aria-label="Next page"]').getAttribute('href'), '/analysis/20240115_083000_abc123?page=3&size=25#anomalies');
    assert.equal(await page.locator('#recommendations .card').count(), 2);
    assert.equal(await page.locator('#download-report').getAttribute('href'), '/download/20240115_083000_abc123');
    await screenshot(page, 'pages-analysis-desktop');
    await page.setViewportSize(PHONE);
    await screenshot(page, 'pages-analysis-phone');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('analysis: the flow table fits a phone, and the anomaly table filters to one incident', async () => {
    const { page, problems } = await open('/analysis/20240115_083000_abc123?incident=INC-001&size=25', PHONE);
    // Phone: no sideways scrolling in the flow table; the reason moves under the flow.
    const widths = await page.locator('#flows-INC-001 .table-responsive').evaluate((e) => [(e as HTMLElement).scrollWidth, (e as HTMLElement).clientWidth]);
    assert.ok(widths[0] <= widths[1], `flow table ${widths[0]}px in ${widths[1]}px`);
    assert.equal(await page.locator('#flows-INC-001 tbody tr').first().locator('.fs-reason:visible').count(), 1);
    await page.locator('#flows-INC-001').scrollIntoViewIfNeeded();
    await screenshot(page, 'pages-analysis-flows-phone');
    // The filter: only INC-001's anomalies, a note naming it, a way back, links that keep it.
    assert.match((await page.locator('#incident-filter').textContent()) ?? '', /Anomalies of INC-001 \(Port scan from 203\.0\.113\.45/);
    assert.equal(await page.locator('#anomaly-table tbody tr').count(), 3);
    assert.deepEqual(await page.locator('#anomaly-table tbody tr td:last-child').allTextContents(), ['INC-001', 'INC-001', 'INC-001']);
    assert.equal(await page.locator('#incident-filter-clear').getAttribute('href'), '/analysis/20240115_083000_abc123?size=25#anomalies');
    assert.equal(await page.locator('a[aria-current="true"]').getAttribute('href'), '/analysis/20240115_083000_abc123?page=1&size=25&incident=INC-001#anomalies');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('analysis without timestamps or incidents says so', async () => {
    const { page, problems } = await open('/analysis/20240115_083000_abc123?notime=1&noinc=1');
    assert.match((await page.locator('#no-timeline').textContent()) ?? '', /No timestamps in this data/);
    assert.equal(await page.locator('#timeline-chart').count(), 0);
    assert.match((await page.locator('#incidents .fs-empty').textContent()) ?? '', /No incidents/);
    await screenshot(page, 'pages-analysis-notime');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('history lists analyses, and has an empty state', async () => {
    const { page } = await open('/history');
    assert.equal(await page.locator('#history-table tbody tr').count(), 8);
    assert.equal(await page.locator('#history-table tbody tr').first().locator('a').first().getAttribute('href'), '/analysis/20240110_083000_abc120');
    await screenshot(page, 'pages-history-desktop');
    await page.goto(server.url + '/history?empty=1');
    assert.match((await page.locator('#history-empty').textContent()) ?? '', /Nothing analyzed yet/);
    await page.close();
  });

  test('error page shows status, message and position; stack only when given', async () => {
    const { page } = await open('/preview/error');
    assert.equal(await page.locator('#error-status').textContent(), '422');
    assert.equal(await page.locator('#error-message').textContent(), 'Row 14 has 5 fields but the header has 8.');
    assert.equal(await page.locator('#error-position').textContent(), 'line 14, column 6, (bytes_transferred)');
    assert.equal(await page.locator('.fs-stack').count(), 0);
    await screenshot(page, 'pages-error-desktop');
    await page.goto(server.url + '/preview/error?stack=1');
    assert.equal(await page.locator('.fs-stack').count(), 1);
    await page.close();
  });
});
