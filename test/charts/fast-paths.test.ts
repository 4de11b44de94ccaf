/**
 * The charts' fast paths against plain reference implementations: the typed-array sampler (radix
 * order of anomalies, log-bin lookup table, fused passes) against the straightforward algorithm it
 * replaced, the sprite-drawn scatter points against Chart.js' own drawing, and the one-pass
 * histograms. The charts themselves are rendered through chartjs-node-canvas.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { drawPoint } from 'chart.js/helpers';
import type * as NodeCanvas from 'canvas';
import { sampleChartPoints, mulberry32, renderScatter, type ChartSettings, type SampleOptions, type SampledChartPoints } from '../../src/charts/index.ts';
import { AxisBins, DEFAULT_MAX_ANOMALIES, orderBySeverity, useLogScale } from '../../src/charts/sample.ts';
import { drawMarkers, markerSprites, type MarkerStyle } from '../../src/charts/points.ts';
import { formatCount, histogram, histograms } from '../../src/charts/render.ts';

const requireHere = createRequire(import.meta.url);
const { createCanvas, Image } = createRequire(requireHere.resolve('chartjs-node-canvas'))('canvas') as typeof NodeCanvas;

// ---- Reference sampler: the straightforward implementation the fast one must match exactly. ----

function referenceSample(x: Float64Array, y: Float64Array, isAnomaly: Uint8Array, severity: Float64Array, opts: SampleOptions): SampledChartPoints {
  const n = x.length;
  const maxNormal = Math.max(0, Math.floor(opts.maxNormal));
  const maxAnomalies = Math.max(0, Math.floor(opts.maxAnomalies ?? DEFAULT_MAX_ANOMALIES));
  const finite = (i: number) => Number.isFinite(x[i]) && Number.isFinite(y[i]);
  const anomalies: number[] = [];
  let normalTotal = 0;
  for (let i = 0; i < n; i++) {
    if (isAnomaly[i]) {
      if (finite(i)) anomalies.push(i);
    } else normalTotal++;
  }
  const anomalyTotal = n - normalTotal;
  const sev = (i: number) => (Number.isNaN(severity[i]) ? -Infinity : severity[i]);
  anomalies.sort((a, b) => sev(b) - sev(a) || (Number.isNaN(severity[a]) ? 1 : 0) - (Number.isNaN(severity[b]) ? 1 : 0) || a - b);
  const kept = anomalies.slice(0, maxAnomalies).reverse();
  const normal: number[] = [];
  for (let i = 0; i < n; i++) if (!isAnomaly[i] && finite(i)) normal.push(i);
  const logX = useLogScale(x);
  const logY = useLogScale(y);
  const chosen = normal.length <= maxNormal ? normal : referenceStratified(x, y, normal, maxNormal, logX, logY, mulberry32(opts.seed));
  const points: [number, number, number, number, number][] = [];
  for (const i of chosen) points.push([x[i], y[i], 0, i, severity[i]]);
  for (const i of kept) points.push([x[i], y[i], 1, i, severity[i]]);
  return { x: opts.xName, y: opts.yName, points, normalShown: chosen.length, normalTotal, anomalyShown: kept.length, anomalyTotal, logX, logY };
}

function referenceStratified(x: Float64Array, y: Float64Array, rows: number[], budget: number, logX: boolean, logY: boolean, rand: () => number): number[] {
  if (budget === 0) return [];
  const shuffle = <T>(a: T[]) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
  };
  const picked = new Set<number>();
  let minX = rows[0], maxX = rows[0], minY = rows[0], maxY = rows[0];
  for (const i of rows) {
    if (x[i] < x[minX]) minX = i;
    if (x[i] > x[maxX]) maxX = i;
    if (y[i] < y[minY]) minY = i;
    if (y[i] > y[maxY]) maxY = i;
  }
  for (const i of [minX, maxX, minY, maxY]) if (picked.size < budget) picked.add(i);
  const GRID = Math.max(2, Math.min(48, Math.floor(Math.sqrt(budget * 0.2))));
  const binner = (v: Float64Array, log: boolean) => {
    const t = (a: number) => (log ? Math.log10(Math.max(a, 1e-300)) : a);
    let lo = Infinity, hi = -Infinity;
    for (const i of rows) {
      lo = Math.min(lo, t(v[i]));
      hi = Math.max(hi, t(v[i]));
    }
    const span = hi - lo;
    return (a: number) => (span > 0 ? Math.min(GRID - 1, Math.max(0, Math.floor(((t(a) - lo) / span) * GRID))) : 0);
  };
  const bx = binner(x, logX);
  const by = binner(y, logY);
  const cells: number[][] = Array.from({ length: GRID * GRID }, () => []);
  for (const i of rows) cells[bx(x[i]) * GRID + by(y[i])].push(i);
  const remaining = budget - picked.size;
  const occupied = cells.map((c, k) => (c.length > 0 ? k : -1)).filter((k) => k >= 0);
  const quota = new Array<number>(cells.length).fill(0);
  if (occupied.length >= remaining) {
    shuffle(occupied);
    for (let k = 0; k < remaining; k++) quota[occupied[k]] = 1;
  } else {
    let used = 0;
    const extra = remaining - occupied.length;
    const frac: { c: number; r: number }[] = [];
    for (const c of occupied) {
      const share = ((cells[c].length - 1) / (rows.length - occupied.length)) * extra;
      quota[c] = Math.min(cells[c].length, 1 + Math.floor(share));
      used += quota[c];
      frac.push({ c, r: share - Math.floor(share) });
    }
    frac.sort((a, b) => b.r - a.r || a.c - b.c);
    for (let k = 0; used < remaining && k < frac.length * 2; k++) {
      const c = frac[k % frac.length].c;
      if (quota[c] < cells[c].length) {
        quota[c]++;
        used++;
      }
    }
  }
  for (const c of occupied) {
    const cell = cells[c];
    for (let k = 0, got = 0; k < cell.length && got < quota[c]; k++) {
      const j = k + Math.floor(rand() * (cell.length - k));
      [cell[k], cell[j]] = [cell[j], cell[k]];
      if (!picked.has(cell[k])) {
        picked.add(cell[k]);
        got++;
      }
    }
  }
  if (picked.size < budget) {
    const rest = rows.filter((r) => !picked.has(r));
    shuffle(rest);
    for (let k = 0; picked.size < budget && k < rest.length; k++) picked.add(rest[k]);
  }
  let out = [...picked].sort((a, b) => a - b);
  if (out.length > budget) {
    const keep = new Set([minX, maxX, minY, maxY]);
    const rest = out.filter((r) => !keep.has(r));
    shuffle(rest);
    out = [...keep, ...rest.slice(0, budget - keep.size)].slice(0, budget).sort((a, b) => a - b);
  }
  return out;
}

/** Heavy-tailed data with awkward values: NaN, ±Infinity, zeros, negatives, tied and NaN severities. */
function awkward(n: number, share: number, seed: number, opts: { weird?: boolean; negative?: boolean } = {}) {
  const r = mulberry32(seed);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const a = new Uint8Array(n);
  const sev = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const anom = r() < share;
    a[i] = anom ? 1 : 0;
    x[i] = Math.exp((anom ? 11 : 6) + 3 * (r() + r() - 1));
    y[i] = opts.negative ? 40 * (r() - 0.5) : Math.exp(4 * r());
    sev[i] = anom ? 50 + 50 * r() : 50 * r();
    if (opts.weird) {
      const u = r();
      if (u < 0.01) x[i] = NaN;
      else if (u < 0.02) y[i] = Infinity;
      else if (u < 0.04) x[i] = 0;
      else if (u < 0.05) y[i] = -0;
      if (r() < 0.2) sev[i] = Math.round(sev[i] / 10) * 10; // ties
      if (r() < 0.01) sev[i] = NaN;
    }
  }
  return { x, y, a, sev };
}

describe('sampling fast path', () => {
  test('sampleChartPoints returns exactly what the straightforward algorithm returns', () => {
    const cases: [number, number, number, number | undefined, { weird?: boolean; negative?: boolean }][] = [
      [40_000, 0.03, 1000, undefined, {}],
      [40_000, 0.03, 1000, undefined, { weird: true }],
      [20_000, 0.2, 300, 500, { weird: true, negative: true }],
      [5_000, 0.5, 100, 50, { weird: true }],
      [3_000, 0, 2_000, undefined, { negative: true }],
      [800, 0.1, 5_000, undefined, { weird: true }],
      [50, 0.3, 3, 2, { weird: true }],
      [2_000, 0.2, 0, 0, {}],
    ];
    for (const [n, share, maxNormal, maxAnomalies, o] of cases) {
      for (const seed of [1, 7]) {
        const { x, y, a, sev } = awkward(n, share, seed, o);
        const opts = { maxNormal, seed, xName: 'x', yName: 'y', maxAnomalies };
        assert.deepEqual(sampleChartPoints(x, y, a, sev, opts), referenceSample(x, y, a, sev, opts), `n=${n} share=${share} seed=${seed} ${JSON.stringify(o)}`);
      }
    }
  });

  test('orderBySeverity orders most severe first, ties by row, NaN last, -0 as 0', () => {
    const sev = new Float64Array([3, -1, 5, NaN, 5, 0, -0, -7.5, 1e-300, Infinity, -Infinity, 3, NaN, 2.5]);
    const rows = Int32Array.from(sev.keys());
    const key = (i: number) => (Number.isNaN(sev[i]) ? -Infinity : sev[i]);
    const expected = Array.from(rows).sort((a, b) => key(b) - key(a) || (Number.isNaN(sev[a]) ? 1 : 0) - (Number.isNaN(sev[b]) ? 1 : 0) || a - b);
    assert.deepEqual(Array.from(orderBySeverity(rows, sev)), expected);
    // Many rows with few distinct values (radix passes that see one bucket are skipped).
    const r = mulberry32(5);
    const many = Float64Array.from({ length: 30_000 }, () => Math.floor(r() * 50) + 0.5);
    const all = Int32Array.from(many.keys());
    assert.deepEqual(Array.from(orderBySeverity(all, many)), Array.from(all).sort((a, b) => many[b] - many[a] || a - b));
    assert.deepEqual(Array.from(orderBySeverity(new Int32Array(0), many)), []);
  });

  test('AxisBins gives the computed bin for every value, including bin edges, zeros and huge ranges', () => {
    const r = mulberry32(11);
    for (const [lo, hi, log] of [
      [0.001, 1e6, true],
      [0, 5e4, true],
      [1, 1, true],
      [3, 3e15, true],
      [-50, 120, false],
      [0, 1, false],
    ] as const) {
      const GRID = 48;
      const values: number[] = [lo, hi, 0, -0];
      // Values at and next to each bin edge, and random ones.
      const t = (v: number) => (log ? Math.log10(Math.max(v, 1e-300)) : v);
      const t0 = t(lo);
      const span = t(hi) - t0;
      for (let k = 0; k <= GRID; k++) {
        const edge = log ? 10 ** (t0 + (span * k) / GRID) : t0 + (span * k) / GRID;
        values.push(edge, edge * (1 + 1e-15), edge * (1 - 1e-15), edge + Number.EPSILON);
      }
      for (let k = 0; k < 5000; k++) values.push(log ? 10 ** (t0 + span * r()) : lo + (hi - lo) * r());
      const v = Float64Array.from(values.filter((a) => a >= Math.min(lo, 0) && a <= hi));
      const bins = new AxisBins(v, log, lo, hi, GRID);
      for (let i = 0; i < v.length; i++) {
        const expected = span > 0 ? Math.min(GRID - 1, Math.max(0, Math.floor(((t(v[i]) - t0) / span) * GRID))) : 0;
        assert.equal(bins.bin(i) + 0, expected, `value ${v[i]} on [${lo}, ${hi}] log=${log}`);
      }
    }
  });
});

// ---- Rendering fast paths ----

function decode(png: Buffer): { width: number; height: number; data: Uint8ClampedArray } {
  const img = new Image();
  img.src = png;
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { width: img.width, height: img.height, data: ctx.getImageData(0, 0, img.width, img.height).data };
}

describe('rendering fast paths', () => {
  test('sprite-drawn markers match Chart.js drawing them one by one', () => {
    const styles: MarkerStyle[] = [
      { pointStyle: 'triangle', radius: 3.5, borderWidth: 0.75, backgroundColor: 'rgba(214,39,40,0.85)', borderColor: 'rgba(214,39,40,1)' },
      { pointStyle: 'circle', radius: 1.6, borderWidth: 0, backgroundColor: 'rgba(31,119,180,0.36)', borderColor: 'rgba(31,119,180,0.36)' },
    ];
    const W = 120;
    const H = 90;
    const r = mulberry32(9);
    const xs = Float64Array.from({ length: 300 }, () => 10 + r() * 100);
    const ys = Float64Array.from({ length: 300 }, () => 10 + r() * 70);
    for (const style of styles) {
      const ref = createCanvas(W, H);
      const rc = ref.getContext('2d');
      rc.fillStyle = '#ffffff';
      rc.fillRect(0, 0, W, H);
      rc.strokeStyle = style.borderColor;
      rc.lineWidth = style.borderWidth;
      rc.fillStyle = style.backgroundColor;
      for (let k = 0; k < xs.length; k++) drawPoint(rc as never, { pointStyle: style.pointStyle, radius: style.radius, borderWidth: style.borderWidth, rotation: 0 }, xs[k], ys[k]);
      const expected = rc.getImageData(0, 0, W, H).data;

      const fast = createCanvas(W, H);
      const fc = fast.getContext('2d');
      fc.fillStyle = '#ffffff';
      fc.fillRect(0, 0, W, H);
      const image = fc.getImageData(0, 0, W, H);
      drawMarkers({ data: image.data, left: 0, top: 0, width: W, height: H }, markerSprites(style, createCanvas), xs, ys, { left: 0, top: 0, right: W, bottom: H });
      // Same ink overall, and pixel by pixel close (positions are rounded to a quarter pixel).
      let sumA = 0;
      let sumB = 0;
      let far = 0;
      for (let i = 0; i < expected.length; i += 4) {
        sumA += 765 - expected[i] - expected[i + 1] - expected[i + 2];
        sumB += 765 - image.data[i] - image.data[i + 1] - image.data[i + 2];
        if (Math.max(Math.abs(expected[i] - image.data[i]), Math.abs(expected[i + 1] - image.data[i + 1]), Math.abs(expected[i + 2] - image.data[i + 2])) > 64) far++;
        assert.equal(image.data[i + 3], 255);
      }
      assert.ok(Math.abs(sumA - sumB) / sumA < 0.02, `${style.pointStyle}: ink ${sumB} vs ${sumA}`);
      assert.ok(far < (W * H) / 200, `${style.pointStyle}: ${far} pixels far off`);
    }
  });

  test('markers are clipped to the given rectangle and to the target', () => {
    const style: MarkerStyle = { pointStyle: 'rect', radius: 3, borderWidth: 0, backgroundColor: '#000000', borderColor: '#000000' };
    const W = 20;
    const data = new Uint8ClampedArray(W * W * 4).fill(255);
    drawMarkers({ data, left: 0, top: 0, width: W, height: W }, markerSprites(style, createCanvas), Float64Array.of(10, 0, 19.5, NaN), Float64Array.of(10, 0, 19.5, 5), { left: 0, top: 0, right: 15, bottom: 20 });
    const dark = (px: number, py: number) => data[(py * W + px) * 4] < 128;
    assert.ok(dark(10, 10), 'centre of the first marker');
    assert.ok(dark(0, 0), 'corner marker, cut by the target');
    for (let py = 0; py < W; py++) for (let px = 15; px < W; px++) assert.ok(!dark(px, py), `clipped at (${px}, ${py})`);
  });

  test('the scatter spans every point drawn, not just the first and last of each series', async () => {
    // Normal points at x 1..10; anomalies at x 5, 1000 (in the middle of the series) and 6.
    const points: [number, number, number, number, number][] = [];
    for (let k = 0; k < 200; k++) points.push([1 + (k % 10), 10 + (k % 7), 0, k, 10]);
    points.push([5, 12, 1, 200, 60], [1000, 13, 1, 201, 70], [6, 12, 1, 202, 80]);
    const settings: ChartSettings = { scatter: { figsize: [6, 4], alpha: 0.6, colors: { normal: '#1f77b4', anomaly: '#d62728' } }, distribution: { figsize: [5, 3], bins: 10 } };
    const sampled: SampledChartPoints = { x: 'x', y: 'y', points, normalShown: 200, normalTotal: 200, anomalyShown: 3, anomalyTotal: 3, logX: false, logY: false };
    const png = await renderScatter(sampled, settings);
    const { width, height, data } = decode(png);
    // Red pixels in the right tenth of the image, below the legend: the anomaly at x = 1000.
    let red = 0;
    for (let py = Math.floor(height * 0.25); py < height; py++) {
      for (let px = Math.floor(width * 0.88); px < width; px++) {
        const o = (py * width + px) * 4;
        if (data[o] > 150 && data[o + 1] < 100 && data[o + 2] < 100) red++;
      }
    }
    assert.ok(red >= 10, `the far anomaly is drawn (${red} red pixels at the right)`);
  });

  test('histograms counts both series in one pass, as histogram does for each', () => {
    const r = mulberry32(4);
    const v = Float64Array.from({ length: 10_000 }, () => (r() < 0.01 ? NaN : -0.3 - r() * 0.5));
    const m = Uint8Array.from({ length: v.length }, () => (r() < 0.1 ? 1 : 0));
    for (const bins of [1, 7, 50]) {
      const both = histograms(v, m, -0.85, -0.25, bins);
      assert.deepEqual(both.normal, histogram(v, m, 0, -0.85, -0.25, bins));
      assert.deepEqual(both.anomalous, histogram(v, m, 1, -0.85, -0.25, bins));
    }
  });

  test('formatCount groups thousands as toLocaleString does', () => {
    for (const v of [0, 7, 999, 1000, 12_345, 950_000, 1_234_567.4, -4321, 123_456_789_012]) assert.equal(formatCount(v), Math.round(v).toLocaleString('en-US'));
  });
});
