import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import ejs from 'ejs';
import { analysisLocals } from '../browser/fixtures.ts';

const VIEW = path.resolve(import.meta.dirname, '../../views/pages/analysis.ejs');

/** The analysis page rendered from the browser tests' sample locals, with the scatter's counts replaced. */
async function scatterNote(scatter: Record<string, number>): Promise<string> {
  const locals = analysisLocals();
  const summary = { ...locals.summary, charts: { ...locals.summary.charts, scatter: { ...locals.summary.charts.scatter, ...scatter } } };
  const html = await ejs.renderFile(VIEW, { ...locals, summary }, { views: [path.resolve(import.meta.dirname, '../../views')] });
  const m = /<p[^>]*id="scatter-note"[^>]*>([\s\S]*?)<\/p>/.exec(html);
  assert.ok(m, 'the page has the scatter note');
  return m[1].replace(/\s+/g, ' ').trim();
}

test('when every anomaly is drawn, then the scatter note says so', async () => {
  assert.equal(
    await scatterNote({ normalShown: 5000, normalTotal: 950_000, anomalyShown: 50_000, anomalyTotal: 50_000 }),
    'Hover a point to see the flow. Normal traffic sampled: 5,000 of 950,000 flows shown, every anomaly included.',
  );
});

test('when only the most severe anomalies are drawn, then the scatter note says how many of how many', async () => {
  assert.equal(
    await scatterNote({ normalShown: 5000, normalTotal: 4_000_000, anomalyShown: 200_000, anomalyTotal: 260_000 }),
    'Hover a point to see the flow. Normal traffic sampled: 5,000 of 4,000,000 flows shown; anomalies: the 200,000 most severe of 260,000 shown.',
  );
  assert.equal(
    await scatterNote({ normalShown: 10, normalTotal: 10, anomalyShown: 200_000, anomalyTotal: 260_000 }),
    'Hover a point to see the flow. Anomalies: the 200,000 most severe of 260,000 shown.',
  );
});

test('when nothing is sampled, then the note only invites to hover', async () => {
  assert.equal(await scatterNote({ normalShown: 300, normalTotal: 300, anomalyShown: 20, anomalyTotal: 20 }), 'Hover a point to see the flow.');
});

test('when the analysis predates the anomaly counts, then the note claims nothing about anomalies', async () => {
  const note = await scatterNote({ normalShown: 5000, normalTotal: 950_000 });
  assert.equal(note, 'Hover a point to see the flow. Normal traffic sampled: 5,000 of 950,000 flows shown.');
});

test('an evidence flow writes its reason with a hover title once (on the wide layout), not again in the phone copy', async () => {
  const locals = analysisLocals();
  const html = await ejs.renderFile(VIEW, locals, { views: [path.resolve(import.meta.dirname, '../../views')] });
  const phone = [...html.matchAll(/<div class="d-sm-none fs-tiny fs-clamp text-wrap fs-reason"([^>]*)>/g)];
  const wide = [...html.matchAll(/<td class="fs-reason-cell[^"]*"><div class="fs-clamp fs-reason"([^>]*)>/g)];
  assert.ok(phone.length > 0 && phone.length === wide.length, `${phone.length} phone and ${wide.length} wide reasons`);
  assert.ok(phone.every((m) => !m[1].includes('title=')), 'no title on the phone copy (no hover there)');
  assert.ok(wide.every((m) => m[1].includes('title=')), 'the wide copy keeps its title');
});

test('the interactive timeline gets every timed incident, as the image places them (not the first 60)', async () => {
  const locals = analysisLocals();
  const timed = locals.summary.incidents.find((i) => i.firstSeen !== null && i.lastSeen !== null);
  assert.ok(timed, 'the sample has a timed incident');
  const incidents = Array.from({ length: 150 }, (_, k) => ({ ...timed, id: `INC-${String(k + 1).padStart(3, '0')}`, severity: 90 - k / 10 }));
  const html = await ejs.renderFile(VIEW, { ...locals, summary: { ...locals.summary, incidents } }, { views: [path.resolve(import.meta.dirname, '../../views')] });
  const attr = /data-timeline="([^"]*)"/.exec(html);
  assert.ok(attr, 'the page has the timeline data');
  const data = JSON.parse(attr[1].replaceAll('&#34;', '"').replaceAll('&quot;', '"').replaceAll('&amp;', '&')) as { incidents: unknown[][] };
  assert.equal(data.incidents.length, 150);
  assert.equal(data.incidents[149][0], 'INC-150');
});
