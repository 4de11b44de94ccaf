import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  sampleChartPoints,
  renderScatter,
  renderDistribution,
  renderTimeline,
  mulberry32,
  useLogScale,
  scatterSubtitle,
  chartSettingsFromConfig,
  DEFAULT_CHART_SETTINGS,
  type ChartSettings,
} from '../../src/charts/index.ts';
import type { TimeAnalysis, Incident } from '../../src/findings/types.ts';
import { ChartJSNodeCanvas } from 'chartjs-node-canvas';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngSize(buf: Buffer): { width: number; height: number } {
  assert.ok(buf.subarray(0, 8).equals(PNG_SIGNATURE), 'PNG signature');
  assert.equal(buf.toString('latin1', 12, 16), 'IHDR');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function synthetic(n: number, anomalyShare: number, seed = 7) {
  const r = mulberry32(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const a = new Uint8Array(n);
  const sev = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const anom = r() < anomalyShare;
    a[i] = anom ? 1 : 0;
    x[i] = Math.exp((anom ? 11 : 6) + 2 * (r() + r() - 1));
    y[i] = (anom ? 500 : 20) + 15 * (r() - 0.5);
    sev[i] = anom ? 50 + 50 * r() : 50 * r();
  }
  return { x, y, a, sev };
}

const settings: ChartSettings = {
  scatter: { figsize: [6, 4], alpha: 0.5, colors: { normal: '#1f77b4', anomaly: '#d62728' } },
  distribution: { figsize: [5, 3], bins: 20 },
};

describe('sampleChartPoints', () => {
  test('when there are more normal rows than maxNormal, then every anomaly and exactly maxNormal normals are kept', () => {
    const { x, y, a, sev } = synthetic(50_000, 0.02);
    const anomalies = a.reduce((s, v) => s + v, 0);
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 1000, seed: 1, xName: 'bytes', yName: 'packets' });
    assert.equal(p.normalShown, 1000);
    assert.equal(p.normalTotal, 50_000 - anomalies);
    assert.equal(p.anomalyShown, anomalies);
    assert.equal(p.anomalyTotal, anomalies);
    assert.equal(p.points.filter((q) => q[2] === 0).length, 1000);
    const rows = new Set(p.points.filter((q) => q[2] === 1).map((q) => q[3]));
    for (let i = 0; i < a.length; i++) if (a[i]) assert.ok(rows.has(i), `anomaly row ${i} kept`);
    for (const q of p.points) {
      assert.equal(q[0], x[q[3]]);
      assert.equal(q[1], y[q[3]]);
      assert.equal(q[2], a[q[3]]);
      assert.equal(q[4], sev[q[3]]);
    }
    assert.equal(p.x, 'bytes');
    assert.equal(p.y, 'packets');
  });

  test('when sampling normals, then the extremes of both axes are kept', () => {
    const { x, y, a, sev } = synthetic(30_000, 0.01);
    let minX = -1, maxX = -1, minY = -1, maxY = -1;
    for (let i = 0; i < x.length; i++) {
      if (a[i]) continue;
      if (minX < 0 || x[i] < x[minX]) minX = i;
      if (maxX < 0 || x[i] > x[maxX]) maxX = i;
      if (minY < 0 || y[i] < y[minY]) minY = i;
      if (maxY < 0 || y[i] > y[maxY]) maxY = i;
    }
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 200, seed: 3, xName: 'x', yName: 'y' });
    const rows = new Set(p.points.filter((q) => q[2] === 0).map((q) => q[3]));
    for (const r of [minX, maxX, minY, maxY]) assert.ok(rows.has(r), `extreme row ${r} kept`);
    assert.equal(p.normalShown, 200);
  });

  test('when sampling, then the sample is spread over the cloud, not the first rows', () => {
    const { x, y, a, sev } = synthetic(20_000, 0);
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 500, seed: 9, xName: 'x', yName: 'y' });
    const rows = p.points.map((q) => q[3]);
    assert.ok(Math.max(...rows) > 15_000, 'rows from the end of the file are sampled');
    // Median of the sample near the median of the data (shape kept).
    const med = (v: number[]) => v.slice().sort((s, t) => s - t)[Math.floor(v.length / 2)];
    const all = med(Array.from(x));
    const sm = med(p.points.map((q) => q[0]));
    assert.ok(Math.abs(Math.log(sm / all)) < 0.5, `sample median ${sm} close to data median ${all}`);
  });

  test('when called twice with the same seed, then the same points come back; another seed gives another sample', () => {
    const { x, y, a, sev } = synthetic(10_000, 0.05);
    const o = { maxNormal: 300, seed: 42, xName: 'x', yName: 'y' };
    const p1 = sampleChartPoints(x, y, a, sev, o);
    const p2 = sampleChartPoints(x, y, a, sev, o);
    assert.deepEqual(p1, p2);
    const p3 = sampleChartPoints(x, y, a, sev, { ...o, seed: 43 });
    assert.notDeepEqual(p1.points.map((q) => q[3]), p3.points.map((q) => q[3]));
  });

  test('when normals fit under maxNormal, then all are kept', () => {
    const { x, y, a, sev } = synthetic(500, 0.1);
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 5000, seed: 1, xName: 'x', yName: 'y' });
    assert.equal(p.points.length, 500);
    assert.equal(p.normalShown, p.normalTotal);
  });

  test('when anomalies exceed maxAnomalies, then the most severe are kept and the subtitle says so', () => {
    const { x, y, a, sev } = synthetic(5_000, 0.5);
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 100, seed: 1, xName: 'x', yName: 'y', maxAnomalies: 50 });
    const kept = p.points.filter((q) => q[2] === 1).map((q) => q[4]);
    assert.equal(kept.length, 50);
    const all = Array.from(sev).filter((_, i) => a[i] === 1).sort((s, t) => t - s);
    assert.equal(Math.min(...kept), all[49]);
    assert.match(scatterSubtitle(p), /the 50 most severe of [\d,]+ anomalies/);
    assert.match(scatterSubtitle(p), /stratified sample of 100 of [\d,]+ normal flows/);
  });

  test('when inputs have different lengths, then it throws a RangeError', () => {
    assert.throws(
      () => sampleChartPoints(new Float64Array(2), new Float64Array(3), new Uint8Array(2), new Float64Array(2), { maxNormal: 1, seed: 1, xName: 'x', yName: 'y' }),
      RangeError,
    );
  });
});

describe('useLogScale and settings', () => {
  test('log scale for non-negative data spanning three orders of magnitude, or skewed over 20×', () => {
    assert.equal(useLogScale([1, 10, 100, 1000]), true);
    assert.equal(useLogScale([0, 5, 5000]), true);
    assert.equal(useLogScale([-1, 10, 100_000]), false);
    assert.equal(useLogScale([10, 20, 30, 40, 50]), false);
    assert.equal(useLogScale([1, 50, 60, 70, 100]), false);
    assert.equal(useLogScale([2, 3, 3, 4, 3, 500]), true);
  });
  test('config.json visualization maps to ChartSettings', () => {
    const s = chartSettingsFromConfig({
      scatter_plot: { figsize: [12, 8], alpha: 0.6, colors: { normal: '#111111', anomaly: '#222222' } },
      distribution_plot: { figsize: [10, 5], bins: 30 },
    });
    assert.deepEqual(s, { scatter: { figsize: [12, 8], alpha: 0.6, colors: { normal: '#111111', anomaly: '#222222' } }, distribution: { figsize: [10, 5], bins: 30 } });
    assert.deepEqual(DEFAULT_CHART_SETTINGS.scatter.figsize, [12, 8]);
  });
});

describe('renderers', () => {
  test('scatter PNG is figsize × 100 px', async () => {
    const { x, y, a, sev } = synthetic(2000, 0.05);
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 500, seed: 1, xName: 'bytes', yName: 'packets' });
    const png = await renderScatter(p, settings);
    assert.deepEqual(pngSize(png), { width: 600, height: 400 });
  });

  test('distribution PNG is figsize × 100 px, and differs when the threshold moves', async () => {
    const { x, a } = synthetic(3000, 0.05);
    const scores = x.map((v) => -0.3 - Math.log(v) / 40);
    const png = await renderDistribution(scores, a, -0.5, settings);
    assert.deepEqual(pngSize(png), { width: 500, height: 300 });
    const other = await renderDistribution(scores, a, -0.6, settings);
    assert.ok(!png.equals(other), 'the threshold line is drawn');
  });

  test('timeline renders with data, and a "no timestamps" image without', async () => {
    const start = Date.UTC(2024, 0, 1);
    const buckets = Array.from({ length: 48 }, (_, k) => ({ start: start + k * 3_600_000, flows: 100 + k, anomalies: k % 7 }));
    const time: TimeAnalysis = {
      available: true,
      bucketMs: 3_600_000,
      buckets,
      byHourOfDay: [],
      byDay: [],
      bursts: [{ start: start + 5 * 3_600_000, end: start + 6 * 3_600_000, flows: 300, anomalies: 10, rate: 5, baselineRate: 1 }],
      periodic: [],
      peakHours: [],
    };
    const inc = { id: 'INC-001', firstSeen: start + 10 * 3_600_000, lastSeen: start + 12 * 3_600_000 } as unknown as Incident;
    const png = await renderTimeline(time, [inc], settings);
    assert.deepEqual(pngSize(png), { width: 500, height: 300 });
    const none = await renderTimeline({ ...time, available: false, buckets: [] }, [], settings);
    assert.deepEqual(pngSize(none), { width: 500, height: 300 });
    assert.ok(!png.equals(none));
  });

  test('a 1,000,000-row sampled scatter renders at the configured size', async () => {
    const { x, y, a, sev } = synthetic(1_000_000, 0.05, 11);
    const t0 = performance.now();
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 5000, seed: 42, xName: 'bytes', yName: 'packets' });
    const t1 = performance.now();
    const png = await renderScatter(p, DEFAULT_CHART_SETTINGS);
    const t2 = performance.now();
    console.log(`1M rows: sample ${(t1 - t0).toFixed(0)} ms, render ${(t2 - t1).toFixed(0)} ms, ${p.points.length} points, ${png.length} bytes`);
    assert.deepEqual(pngSize(png), { width: 1200, height: 800 });
    assert.equal(p.normalShown, 5000);
    assert.ok(p.anomalyTotal > 45_000, `${p.anomalyTotal} anomalies`);
    assert.equal(p.anomalyShown, p.anomalyTotal, 'every anomaly is drawn');
  });

  test('every renderer renders through ChartJSNodeCanvas, one per chart size, and its PNG is figsize × 100 px', async (t) => {
    const calls: { width: number; height: number; type: string }[] = [];
    const original = ChartJSNodeCanvas.prototype.renderToBuffer;
    t.mock.method(ChartJSNodeCanvas.prototype, 'renderToBuffer', function (this: ChartJSNodeCanvas, config: never, mime: never) {
      const self = this as unknown as { _width: number; _height: number };
      calls.push({ width: self._width, height: self._height, type: (config as { type: string }).type });
      return original.call(this, config, mime);
    });
    const sizes: ChartSettings = {
      scatter: { figsize: [7.5, 4.2], alpha: 0.5, colors: { normal: '#1f77b4', anomaly: '#d62728' } },
      distribution: { figsize: [4.6, 2.5], bins: 12 },
    };
    const { x, y, a, sev } = synthetic(1500, 0.05, 5);
    const p = sampleChartPoints(x, y, a, sev, { maxNormal: 400, seed: 2, xName: 'x', yName: 'y' });
    const start = Date.UTC(2024, 0, 1);
    const time: TimeAnalysis = {
      available: true,
      bucketMs: 3_600_000,
      buckets: Array.from({ length: 12 }, (_, k) => ({ start: start + k * 3_600_000, flows: 50 + k, anomalies: k % 3 })),
      byHourOfDay: [],
      byDay: [],
      bursts: [],
      periodic: [],
      peakHours: [],
    };
    const pngs = await Promise.all([
      renderScatter(p, sizes),
      renderDistribution(x.map((v) => -0.3 - Math.log(v) / 40), a, -0.5, sizes),
      renderTimeline(time, [], sizes),
      renderTimeline({ ...time, available: false, buckets: [] }, [], sizes),
    ]);
    assert.deepEqual(pngs.map(pngSize), [
      { width: 750, height: 420 },
      { width: 460, height: 250 },
      { width: 460, height: 250 },
      { width: 460, height: 250 },
    ]);
    assert.deepEqual(calls, [
      { width: 750, height: 420, type: 'scatter' },
      { width: 460, height: 250, type: 'bar' },
      { width: 460, height: 250, type: 'line' },
      { width: 460, height: 250, type: 'line' },
    ]);
    const again = await renderScatter(p, sizes);
    assert.ok(again.equals(pngs[0]), 'the same chart renders to the same PNG on the reused canvas');
  });
});

describe('scatter axis range', () => {
  test('pads the data range by 3 % of the span, in log space on a log axis', async () => {
    const { paddedRange } = await import('../../src/charts/render.ts');
    const lin = paddedRange(0, 100, false);
    assert.ok(Math.abs(lin.min - -3) < 1e-12 && Math.abs(lin.max - 103) < 1e-12, JSON.stringify(lin));
    const log = paddedRange(1, 1e4, true);
    assert.ok(Math.abs(Math.log10(log.min) - -0.12) < 1e-12 && Math.abs(Math.log10(log.max) - 4.12) < 1e-12, JSON.stringify(log));
    const flat = paddedRange(5, 5, false);
    assert.ok(flat.min < 5 && flat.max > 5, 'a single value still gets a visible range');
  });
});
