/**
 * Server-side PNG charts with chart.js 4 through chartjs-node-canvas: one ChartJSNodeCanvas per
 * chart size (figsize × 100 px), built once (building one loads a fresh Chart.js) and reused; each
 * chart is rendered with renderToBuffer, node-canvas encoding the PNG on the libuv thread pool.
 * Rendering stays on the main thread (node-canvas crashes the process when a worker thread that used
 * it exits). The scatter's points are composited by a Chart.js plugin from marker sprites drawn by
 * Chart.js (points.ts), inside the render, instead of one Chart.js element each.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { ChartJSNodeCanvas } from 'chartjs-node-canvas';
import type { Chart, ChartConfiguration, Plugin } from 'chart.js';
import type { ChartPoints } from '../analysis/types.ts';
import type { Incident, TimeAnalysis } from '../findings/types.ts';
import { PX_PER_INCH, type ChartSettings } from './types.ts';
import { useLogScale } from './sample.ts';
import { drawMarkers, markerSprites, type MarkerStyle, type SpriteCanvasFactory } from './points.ts';

const FONT = 'DejaVu Sans';
const TEXT = '#212529';
const MUTED = '#6c757d';
const GRID = 'rgba(0,0,0,0.08)';

export function pixelSize(figsize: readonly [number, number]): { width: number; height: number } {
  const width = Math.round(figsize[0] * PX_PER_INCH);
  const height = Math.round(figsize[1] * PX_PER_INCH);
  if (!(width > 0 && height > 0 && width <= 10_000 && height <= 10_000)) {
    throw new RangeError(`chart figsize must give 1..10000 px per side, got ${figsize[0]}×${figsize[1]} in`);
  }
  return { width, height };
}

const canvases = new Map<string, ChartJSNodeCanvas>();

/** The ChartJSNodeCanvas for charts of this figsize (made on first use, then reused). */
export function chartCanvas(figsize: readonly [number, number]): ChartJSNodeCanvas {
  const { width, height } = pixelSize(figsize);
  const key = `${width}x${height}`;
  let c = canvases.get(key);
  if (!c) {
    if (!isMainThread) throw new Error('charts are drawn on the main thread only: node-canvas crashes the process when a worker thread that used it exits');
    c = new ChartJSNodeCanvas({
      width,
      height,
      backgroundColour: '#ffffff',
      chartCallback: (ChartJS) => {
        ChartJS.defaults.font.family = FONT;
        ChartJS.defaults.font.size = 13;
        ChartJS.defaults.color = TEXT;
        ChartJS.defaults.animation = false;
        ChartJS.defaults.responsive = false;
        ChartJS.defaults.devicePixelRatio = 1;
      },
    });
    canvases.set(key, c);
  }
  return c;
}

async function render(figsize: readonly [number, number], config: ChartConfiguration): Promise<Buffer> {
  // chartjs-node-canvas types its configuration against its own copy of chart.js' types.
  return chartCanvas(figsize).renderToBuffer(config as never, 'image/png');
}

/** '#rrggbb' (or '#rgb') plus alpha → 'rgba(r,g,b,a)'; other CSS colours pass through unchanged. */
export function withAlpha(color: string, alpha: number): string {
  let m = /^#([0-9a-f]{6})$/i.exec(color);
  let hex = m?.[1];
  if (!hex) {
    m = /^#([0-9a-f]{3})$/i.exec(color);
    if (m) hex = m[1].split('').map((ch) => ch + ch).join('');
  }
  if (!hex) return color;
  const r = parseInt(hex.slice(0, 2), 16);
  const g = parseInt(hex.slice(2, 4), 16);
  const b = parseInt(hex.slice(4, 6), 16);
  return `rgba(${r},${g},${b},${Math.max(0, Math.min(1, alpha))})`;
}

/** 1234567 → '1,234,567' (as toLocaleString('en-US'), without loading ICU's number formatting). */
export function formatCount(n: number): string {
  const r = Math.round(n);
  if (!(Math.abs(r) < 1e21)) return r.toLocaleString('en-US');
  return String(r).replace(/\B(?=(\d{3})+$)/g, ',');
}

/** The sentence under the scatter title saying what was sampled. */
export function scatterSubtitle(points: ChartPoints): string {
  let anomalyShown = 0;
  for (const p of points.points) if (p[2] === 1) anomalyShown++;
  const extra = points as Partial<{ anomalyTotal: number }>;
  const anomalyTotal = typeof extra.anomalyTotal === 'number' ? extra.anomalyTotal : anomalyShown;
  const a =
    anomalyShown < anomalyTotal
      ? `the ${formatCount(anomalyShown)} most severe of ${formatCount(anomalyTotal)} anomalies`
      : `all ${formatCount(anomalyTotal)} ${anomalyTotal === 1 ? 'anomaly' : 'anomalies'}`;
  const nrm =
    points.normalShown < points.normalTotal
      ? `a stratified sample of ${formatCount(points.normalShown)} of ${formatCount(points.normalTotal)} normal flows`
      : `all ${formatCount(points.normalTotal)} normal flows`;
  return `Showing ${a} and ${nrm}`;
}

/** [min, max] widened by 3 % of the span on each side (in log space on a log axis). */
export function paddedRange(min: number, max: number, log: boolean): { min: number; max: number } {
  if (log) {
    const lo = Math.log10(min);
    const hi = Math.log10(max);
    const pad = Math.max((hi - lo) * 0.03, 0.05);
    return { min: 10 ** (lo - pad), max: 10 ** (hi + pad) };
  }
  const span = max - min || Math.abs(max) || 1;
  return { min: min - span * 0.03, max: max + span * 0.03 };
}

function clampForLog(v: number, floor: number): number {
  return v > 0 ? v : floor;
}

/** A scatter layer drawn by the points plugin: pixel positions come from the chart's scales. */
interface PointLayer {
  readonly xs: Float64Array;
  readonly ys: Float64Array;
  readonly style: MarkerStyle;
}

/** Small canvases of the same node-canvas class as the chart's (the one ChartJSNodeCanvas loaded). */
function spriteCanvases(chart: Chart): SpriteCanvasFactory {
  const CanvasClass = (chart.canvas as unknown as { constructor: new (width: number, height: number) => ReturnType<SpriteCanvasFactory> }).constructor;
  return (width, height) => new CanvasClass(width, height);
}

/**
 * Draws the scatter's points, after the grid and axes as Chart.js would draw its datasets: each
 * layer in order (normal, then anomalies on top), each point within the plot area widened by the
 * marker's size, as Chart.js clips a scatter dataset.
 */
const pointsPlugin: Plugin = {
  id: 'fsPoints',
  afterDatasetsDraw(chart, _args, opts: { layers?: PointLayer[] }) {
    const layers = opts.layers ?? [];
    if (layers.length === 0) return;
    const { left, top, right, bottom } = chart.chartArea;
    const margin = Math.ceil(Math.max(...layers.map((l) => Math.max(l.style.radius, 4) + l.style.borderWidth)));
    const rx = Math.max(0, Math.floor(left - margin));
    const ry = Math.max(0, Math.floor(top - margin));
    const rw = Math.min(chart.width, Math.ceil(right + margin)) - rx;
    const rh = Math.min(chart.height, Math.ceil(bottom + margin)) - ry;
    if (rw <= 0 || rh <= 0) return;
    const ctx = chart.ctx;
    const image = ctx.getImageData(rx, ry, rw, rh);
    const target = { data: image.data, left: rx, top: ry, width: rw, height: rh };
    const xScale = chart.scales.x;
    const yScale = chart.scales.y;
    for (const layer of layers) {
      // Chart.js clips a scatter dataset to the plot area plus its largest point (hover radius 4 included).
      const m = Math.max(layer.style.radius, 4) + layer.style.borderWidth;
      const clip = { left: Math.round(left - m), top: Math.round(top - m), right: Math.round(right + m), bottom: Math.round(bottom + m) };
      const n = layer.xs.length;
      const px = new Float64Array(n);
      const py = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        px[k] = xScale.getPixelForValue(layer.xs[k]);
        py[k] = yScale.getPixelForValue(layer.ys[k]);
      }
      drawMarkers(target, markerSprites(layer.style, spriteCanvases(chart)), px, py, clip);
    }
    ctx.putImageData(image, rx, ry);
  },
};

export async function renderScatter(points: ChartPoints, settings: ChartSettings): Promise<Buffer> {
  const { alpha, colors, figsize } = settings.scatter;
  const all = points.points;
  const logX = typeof points.logX === 'boolean' ? points.logX : useLogScale(all.map((p) => p[0]));
  const logY = typeof points.logY === 'boolean' ? points.logY : useLogScale(all.map((p) => p[1]));
  let minPosX = Infinity;
  let minPosY = Infinity;
  let anomalyCount = 0;
  for (const p of all) {
    if (p[0] > 0 && p[0] < minPosX) minPosX = p[0];
    if (p[1] > 0 && p[1] < minPosY) minPosY = p[1];
    if (p[2] === 1) anomalyCount++;
  }
  const floorX = minPosX / 2;
  const floorY = minPosY / 2;
  // Positions by layer (values ≤ 0 on a log axis at half the smallest positive one), and the
  // bounds of what is drawn, which the scales span.
  const normal = { xs: new Float64Array(all.length - anomalyCount), ys: new Float64Array(all.length - anomalyCount), n: 0 };
  const anomalous = { xs: new Float64Array(anomalyCount), ys: new Float64Array(anomalyCount), n: 0 };
  let loX = Infinity;
  let hiX = -Infinity;
  let loY = Infinity;
  let hiY = -Infinity;
  for (const p of all) {
    const x = logX ? clampForLog(p[0], floorX) : p[0];
    const y = logY ? clampForLog(p[1], floorY) : p[1];
    const layer = p[2] === 1 ? anomalous : normal;
    layer.xs[layer.n] = x;
    layer.ys[layer.n] = y;
    layer.n++;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < loX) loX = x;
    if (x > hiX) hiX = x;
    if (y < loY) loY = y;
    if (y > hiY) hiY = y;
  }
  const many = all.length > 5000;
  const anomalyStyle: MarkerStyle = {
    pointStyle: 'triangle',
    radius: 3.5,
    borderWidth: 0.75,
    backgroundColor: withAlpha(colors.anomaly, Math.min(1, alpha + 0.25)),
    borderColor: withAlpha(colors.anomaly, 1),
  };
  const normalStyle: MarkerStyle = {
    pointStyle: 'circle',
    radius: many ? 1.6 : 2.5,
    borderWidth: 0,
    backgroundColor: withAlpha(colors.normal, many ? alpha * 0.6 : alpha),
    borderColor: withAlpha(colors.normal, many ? alpha * 0.6 : alpha),
  };
  // The scales span every point drawn: their bounds come from the data (the datasets hold none),
  // padded a little so the outermost markers are not cut by the plot's border.
  const has = Number.isFinite(loX);
  const axis = (title: string, log: boolean, min: number, max: number) => ({
    type: log ? ('logarithmic' as const) : ('linear' as const),
    ...(has ? paddedRange(min, max, log) : {}),
    title: { display: true, text: log ? `${title} (log scale)` : title, font: { size: 14, weight: 'bold' as const } },
    grid: { color: GRID },
    ticks: { color: MUTED, maxTicksLimit: 12, callback: (v: number | string) => shortNumber(Number(v)) },
  });
  // The two series are datasets without data (their points are drawn by pointsPlugin, inside the
  // render): they give the legend its entries, with their counts.
  const legendEntry = (label: string, style: MarkerStyle, order: number) => ({
    label,
    data: [] as { x: number; y: number }[],
    order,
    backgroundColor: style.backgroundColor,
    borderColor: style.borderColor,
    borderWidth: style.borderWidth,
    pointRadius: style.radius,
    pointStyle: style.pointStyle,
  });
  const config: ChartConfiguration<'scatter'> = {
    type: 'scatter',
    data: {
      datasets: [
        legendEntry(`Anomalies (${formatCount(anomalyCount)})`, anomalyStyle, 0),
        legendEntry(`Normal (${formatCount(all.length - anomalyCount)} shown)`, normalStyle, 1),
      ],
    },
    options: {
      parsing: false,
      normalized: true,
      events: [],
      layout: { padding: 12 },
      plugins: {
        title: { display: true, text: `${points.y} vs ${points.x}`, font: { size: 18, weight: 'bold' } },
        subtitle: { display: true, text: scatterSubtitle(points), color: MUTED, padding: { bottom: 8 } },
        legend: { position: 'top', labels: { usePointStyle: true } },
        tooltip: { enabled: false },
        // @ts-expect-error our own plugin's options
        fsPoints: {
          layers: [
            { xs: normal.xs, ys: normal.ys, style: normalStyle },
            { xs: anomalous.xs, ys: anomalous.ys, style: anomalyStyle },
          ] satisfies PointLayer[],
        },
      },
      scales: { x: axis(points.x, logX, loX, hiX), y: axis(points.y, logY, loY, hiY) },
    },
    plugins: [pointsPlugin],
  };
  return render(figsize, config as ChartConfiguration);
}

/** Compact axis labels: 1.2k, 3.4M, 0.05. */
export function shortNumber(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a === 0) return '0';
  if (a < 0.001) return v.toExponential(0);
  return trim(v);
}
function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/**
 * Normal and anomalous histograms over [lo, hi] with `bins` equal bins (the last bin includes hi),
 * in one pass; as `histogram(values, mask, 0 | 1, ...)` each.
 */
export function histograms(values: Float64Array, mask: Uint8Array, lo: number, hi: number, bins: number): { normal: number[]; anomalous: number[] } {
  const counts = new Float64Array(2 * bins);
  const width = (hi - lo) / bins;
  const top = bins - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) continue; // NaN or ±Infinity
    let b = width > 0 ? Math.floor((v - lo) / width) : 0;
    if (b > top) b = top;
    if (b < 0) b = 0;
    counts[mask[i] ? bins + b : b]++;
  }
  return { normal: Array.from(counts.subarray(0, bins)), anomalous: Array.from(counts.subarray(bins)) };
}

/** Histogram counts over [lo, hi] with `bins` equal bins (the last bin includes hi). */
export function histogram(values: Float64Array, mask: Uint8Array, want: 0 | 1, lo: number, hi: number, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    if ((mask[i] ? 1 : 0) !== want) continue;
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    let b = width > 0 ? Math.floor((v - lo) / width) : 0;
    if (b >= bins) b = bins - 1;
    if (b < 0) b = 0;
    counts[b]++;
  }
  return counts;
}

interface VLine {
  readonly value: number;
  readonly label: string;
  readonly color: string;
}

const verticalLinePlugin: Plugin = {
  id: 'fsVerticalLine',
  afterDatasetsDraw(chart: Chart, _args, opts: { lines?: VLine[] }) {
    const x = chart.scales.x;
    const { top, bottom } = chart.chartArea;
    const ctx = chart.ctx;
    for (const line of opts.lines ?? []) {
      const px = x.getPixelForValue(line.value);
      ctx.save();
      ctx.strokeStyle = line.color;
      ctx.lineWidth = 2;
      ctx.setLineDash([8, 5]);
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = `bold 13px "${FONT}"`;
      const w = ctx.measureText(line.label).width;
      const right = px + 8 + w < chart.chartArea.right;
      const tx = right ? px + 8 : px - 8 - w;
      ctx.fillStyle = 'rgba(255,255,255,0.9)';
      ctx.fillRect(tx - 4, top + 6, w + 8, 22);
      ctx.fillStyle = line.color;
      ctx.textBaseline = 'middle';
      ctx.fillText(line.label, tx, top + 17);
      ctx.restore();
    }
  },
};

/**
 * What the distribution chart draws: the score histogram of normal and anomalous rows over
 * [lo, hi] (the scores' range and the threshold, padded 2%), in `normal.length` equal bins. Small
 * (two arrays of `bins` counts), so it is stored with an analysis and the PNG drawn when first asked for.
 */
export interface DistributionData {
  readonly lo: number;
  readonly hi: number;
  /** sklearn's offset_: rows left of it are anomalies. */
  readonly offset: number;
  readonly normal: readonly number[];
  readonly anomalous: readonly number[];
  readonly normalTotal: number;
  readonly anomalyTotal: number;
}

/** The histogram renderDistribution draws for these scores (one pass for the range, one for the counts). */
export function distributionData(scores: Float64Array, isAnomaly: Uint8Array, offset: number, bins: number): DistributionData {
  const n = Math.max(1, Math.floor(bins));
  let lo = Infinity;
  let hi = -Infinity;
  let nAnom = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (isAnomaly[i]) nAnom++;
  }
  if (Number.isFinite(offset)) {
    lo = Math.min(lo, offset);
    hi = Math.max(hi, offset);
  }
  if (!Number.isFinite(lo)) {
    lo = -1;
    hi = 0;
  }
  if (hi === lo) {
    lo -= 0.01;
    hi += 0.01;
  }
  const pad = (hi - lo) * 0.02;
  lo -= pad;
  hi += pad;
  const { normal, anomalous } = histograms(scores, isAnomaly, lo, hi, n);
  return { lo, hi, offset, normal, anomalous, normalTotal: scores.length - nAnom, anomalyTotal: nAnom };
}

/** The score distribution chart of `scores` (see distributionData and renderDistributionData). */
export async function renderDistribution(
  scores: Float64Array,
  isAnomaly: Uint8Array,
  offset: number,
  settings: ChartSettings,
): Promise<Buffer> {
  return renderDistributionData(distributionData(scores, isAnomaly, offset, settings.distribution.bins), settings);
}

/** Draws a stored histogram (distributionData) with these settings' colours and size. */
export async function renderDistributionData(data: DistributionData, settings: ChartSettings): Promise<Buffer> {
  const { lo, hi, offset, normal, anomalous } = data;
  const bins = normal.length;
  const { colors, alpha } = settings.scatter;
  const width = (hi - lo) / bins;
  const centre = (b: number) => lo + (b + 0.5) * width;
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      datasets: [
        {
          label: `Normal (${formatCount(data.normalTotal)})`,
          data: normal.map((y, b) => ({ x: centre(b), y })) as unknown as number[],
          backgroundColor: withAlpha(colors.normal, Math.max(alpha, 0.7)),
          borderColor: withAlpha(colors.normal, 1),
          borderWidth: 0.5,
          barPercentage: 1,
          categoryPercentage: 0.98,
        },
        {
          label: `Anomalies (${formatCount(data.anomalyTotal)})`,
          data: anomalous.map((y, b) => ({ x: centre(b), y })) as unknown as number[],
          backgroundColor: withAlpha(colors.anomaly, 0.85),
          borderColor: withAlpha(colors.anomaly, 1),
          borderWidth: 0.5,
          barPercentage: 1,
          categoryPercentage: 0.98,
        },
      ],
    },
    options: {
      parsing: false,
      events: [],
      layout: { padding: 12 },
      plugins: {
        title: { display: true, text: 'Anomaly score distribution', font: { size: 18, weight: 'bold' } },
        subtitle: {
          display: true,
          text: `${bins} bins · lower score = more anomalous · flows left of the threshold are flagged`,
          color: MUTED,
          padding: { bottom: 8 },
        },
        legend: { position: 'top' },
        tooltip: { enabled: false },
        // @ts-expect-error our own plugin's options
        fsVerticalLine: { lines: [{ value: offset, label: `threshold ${offset.toFixed(3)}`, color: '#212529' }] },
      },
      scales: {
        x: {
          type: 'linear',
          min: lo,
          max: hi,
          stacked: true,
          offset: false,
          title: { display: true, text: 'anomaly score (score_samples)', font: { size: 14, weight: 'bold' } },
          grid: { color: GRID },
          ticks: { color: MUTED, maxTicksLimit: 14, callback: (v) => Number(v).toFixed(2) },
        },
        y: {
          stacked: true,
          beginAtZero: true,
          title: { display: true, text: 'flows', font: { size: 14, weight: 'bold' } },
          grid: { color: GRID },
          ticks: { color: MUTED, callback: (v) => shortNumber(Number(v)) },
        },
      },
    },
    plugins: [verticalLinePlugin],
  };
  return render(settings.distribution.figsize, config as ChartConfiguration);
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const STEPS = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY];

export function timeStep(spanMs: number, maxTicks = 12): number {
  for (const s of STEPS) if (spanMs / s <= maxTicks) return s;
  return Math.ceil(spanMs / maxTicks / DAY) * DAY;
}

export function formatTick(ms: number, step: number): string {
  const iso = new Date(ms).toISOString();
  if (step >= DAY) return iso.slice(0, 10);
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

interface Band {
  readonly start: number;
  readonly end: number;
  readonly fill: string;
}

/** What the timeline needs of an incident (a stored summary's incidents have it). */
export type TimelineIncident = Pick<Incident, 'id' | 'firstSeen' | 'lastSeen' | 'severity'>;

export interface IncidentLane {
  readonly id: string;
  readonly start: number;
  readonly end: number;
  readonly severity: number;
  readonly lane: number;
}

/**
 * Places incidents (most severe first, at most `maxLanes` lanes) on non-overlapping lanes, like a
 * Gantt strip; `minGap` (ms) keeps labels apart. Incidents that fit no lane are left out. Written
 * once, in public/js/lanes.js, a plain ES module the analysis page imports too: the image and the
 * interactive timeline place their lanes alike.
 */
export const incidentLanes: (incidents: readonly TimelineIncident[], maxLanes: number, minGap: number) => IncidentLane[] = (
  await import(browserModule('lanes.js').href)
).incidentLanes;

/**
 * A plain-JS module of public/js/, which the browser loads as it is, found from this file whether it
 * runs from src/charts/ (tsx) or dist/src/charts/ (compiled): in the nearest folder above that
 * holds public/js/. Only a run-time import: the compile (and the Docker build stage) needs no public/.
 */
function browserModule(name: string): URL {
  for (let dir = new URL('./', import.meta.url); ; ) {
    const file = new URL(`public/js/${name}`, dir);
    if (existsSync(file)) return file;
    const parent = new URL('../', dir);
    if (parent.href === dir.href) throw new Error(`public/js/${name} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

export function severityColor(severity: number): string {
  return severity >= 85 ? '#7a0916' : severity >= 70 ? '#dc3545' : severity >= 55 ? '#fd7e14' : '#6c757d';
}

const LANE_H = 13;

const bandsPlugin: Plugin = {
  id: 'fsBands',
  beforeDatasetsDraw(chart: Chart, _args, opts: { bands?: Band[]; lanes?: IncidentLane[] }) {
    const x = chart.scales.x;
    const { top, bottom, left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, right - left, bottom - top);
    ctx.clip();
    for (const b of opts.bands ?? []) {
      let x0 = x.getPixelForValue(b.start);
      let x1 = x.getPixelForValue(b.end);
      if (x1 - x0 < 3) {
        const mid = (x0 + x1) / 2;
        x0 = mid - 1.5;
        x1 = mid + 1.5;
      }
      ctx.fillStyle = b.fill;
      ctx.fillRect(x0, top, x1 - x0, bottom - top);
    }
    ctx.restore();
  },
  afterDraw(chart: Chart, _args, opts: { bands?: Band[]; lanes?: IncidentLane[] }) {
    const lanes = opts.lanes ?? [];
    if (lanes.length === 0) return;
    const x = chart.scales.x;
    const { top, left, right } = chart.chartArea;
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = `bold 10px "${FONT}"`;
    ctx.textBaseline = 'middle';
    for (const l of lanes) {
      const y = top - 6 - (l.lane + 1) * LANE_H;
      let x0 = Math.max(left, x.getPixelForValue(l.start));
      let x1 = Math.min(right, x.getPixelForValue(l.end));
      if (x1 - x0 < 4) {
        const mid = (x0 + x1) / 2;
        x0 = mid - 2;
        x1 = mid + 2;
      }
      ctx.fillStyle = severityColor(l.severity);
      ctx.fillRect(x0, y, x1 - x0, LANE_H - 4);
      const w = ctx.measureText(l.id).width;
      if (x1 - x0 > w + 6) {
        ctx.fillStyle = '#ffffff';
        ctx.fillText(l.id, x0 + 3, y + (LANE_H - 4) / 2);
      } else {
        ctx.fillStyle = severityColor(l.severity);
        const tx = x1 + 3 + w < right ? x1 + 3 : x0 - 3 - w;
        ctx.fillText(l.id, tx, y + (LANE_H - 4) / 2);
      }
    }
    ctx.restore();
  },
};

const messagePlugin: Plugin = {
  id: 'fsMessage',
  afterDraw(chart: Chart, _args, opts: { lines?: string[] }) {
    const lines = opts.lines ?? [];
    if (lines.length === 0) return;
    const ctx = chart.ctx;
    const cx = chart.width / 2;
    const cy = chart.height / 2;
    ctx.save();
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillStyle = TEXT;
    ctx.font = `bold 26px "${FONT}"`;
    ctx.fillText(lines[0], cx, cy - 18);
    ctx.fillStyle = MUTED;
    ctx.font = `16px "${FONT}"`;
    lines.slice(1).forEach((l, k) => ctx.fillText(l, cx, cy + 20 + k * 24));
    ctx.restore();
  },
};

async function renderMessage(figsize: readonly [number, number], lines: string[]): Promise<Buffer> {
  const config: ChartConfiguration<'line'> = {
    type: 'line',
    data: { datasets: [] },
    options: {
      events: [],
      plugins: {
        legend: { display: false },
        tooltip: { enabled: false },
        // @ts-expect-error our own plugin's options
        fsMessage: { lines },
      },
      scales: { x: { display: false }, y: { display: false } },
    },
    plugins: [messagePlugin],
  };
  return render(figsize, config as ChartConfiguration);
}

/**
 * Flows and anomalies per time bucket. Anomalies go on a second axis when their scale is much
 * smaller than the flows'. Incidents are shaded red (labelled with their id), bursts amber.
 * Drawn at the distribution figsize. Without timestamps, an image that says so.
 */
export async function renderTimeline(time: TimeAnalysis, incidents: readonly TimelineIncident[], settings: ChartSettings): Promise<Buffer> {
  const figsize = settings.distribution.figsize;
  if (!time.available || time.buckets.length === 0) {
    return renderMessage(figsize, [
      'No timestamps in this data',
      'The file has no usable timestamp column, so there is no timeline.',
      'Add a "timestamp" column (ISO 8601 or epoch seconds) to see traffic over time.',
    ]);
  }
  const { colors } = settings.scatter;
  const buckets = time.buckets;
  const first = buckets[0].start;
  const last = buckets[buckets.length - 1].start + time.bucketMs;
  const span = Math.max(last - first, time.bucketMs);
  const step = timeStep(span);
  let maxFlows = 0;
  let maxAnom = 0;
  for (const b of buckets) {
    if (b.flows > maxFlows) maxFlows = b.flows;
    if (b.anomalies > maxAnom) maxAnom = b.anomalies;
  }
  const secondAxis = maxAnom > 0 && maxFlows / maxAnom > 4;
  const half = time.bucketMs / 2;
  const bands: Band[] = time.bursts.map((b) => ({ start: b.start, end: b.end, fill: 'rgba(255,193,7,0.28)' }));
  // Keep about 70 px between incidents on a lane, room for an id label beside a short bar.
  const lanes = incidentLanes(incidents, 6, (span * 70) / Math.max(200, figsize[0] * PX_PER_INCH - 120));
  const laneCount = lanes.reduce((m, l) => Math.max(m, l.lane + 1), 0);
  const timedIncidents = incidents.filter((i) => i.firstSeen !== null).length;
  const subtitleBits = [`${formatCount(buckets.length)} buckets of ${formatDuration(time.bucketMs)} (UTC)`];
  if (lanes.length > 0) {
    subtitleBits.push(lanes.length < timedIncidents ? `bars: the ${lanes.length} most severe of ${timedIncidents} incidents` : 'bars: incidents');
  }
  if (time.bursts.length > 0) subtitleBits.push(`amber: ${time.bursts.length} burst${time.bursts.length === 1 ? '' : 's'}`);
  const config: ChartConfiguration<'line'> = {
    type: 'line',
    data: {
      datasets: [
        {
          label: 'Anomalies per bucket',
          data: buckets.map((b) => ({ x: b.start + half, y: b.anomalies })),
          borderColor: withAlpha(colors.anomaly, 1),
          backgroundColor: withAlpha(colors.anomaly, 0.85),
          borderWidth: 2,
          pointRadius: buckets.length > 200 ? 0 : 2.5,
          yAxisID: secondAxis ? 'y1' : 'y',
          order: 0,
        },
        {
          label: 'Flows per bucket',
          data: buckets.map((b) => ({ x: b.start + half, y: b.flows })),
          borderColor: withAlpha(colors.normal, 1),
          backgroundColor: withAlpha(colors.normal, 0.18),
          fill: 'origin',
          borderWidth: 1.5,
          pointRadius: 0,
          yAxisID: 'y',
          order: 1,
        },
      ],
    },
    options: {
      parsing: false,
      events: [],
      layout: { padding: 12 },
      plugins: {
        title: { display: true, text: 'Traffic over time', font: { size: 18, weight: 'bold' } },
        // The incident lanes are drawn in the subtitle's bottom padding, just above the chart area.
        subtitle: { display: true, text: subtitleBits.join(' · '), color: MUTED, padding: { bottom: 8 + (laneCount > 0 ? laneCount * LANE_H + 6 : 0) } },
        legend: { position: 'bottom' },
        tooltip: { enabled: false },
        // @ts-expect-error our own plugin's options
        fsBands: { bands, lanes },
      },
      scales: {
        x: {
          type: 'linear',
          min: first,
          max: last,
          grid: { color: GRID },
          title: { display: true, text: 'time (UTC)', font: { size: 14, weight: 'bold' } },
          ticks: { color: MUTED, stepSize: step, maxRotation: 0, autoSkip: true, callback: (v) => formatTick(Number(v), step) },
        },
        y: {
          beginAtZero: true,
          position: 'left',
          grid: { color: GRID },
          title: { display: true, text: secondAxis ? 'flows' : 'flows / anomalies', font: { size: 14, weight: 'bold' } },
          ticks: { color: MUTED, precision: 0, callback: (v) => shortNumber(Number(v)) },
        },
        ...(secondAxis
          ? {
              y1: {
                beginAtZero: true,
                position: 'right' as const,
                grid: { drawOnChartArea: false },
                title: { display: true, text: 'anomalies', color: withAlpha(colors.anomaly, 1), font: { size: 14, weight: 'bold' as const } },
                ticks: { color: withAlpha(colors.anomaly, 1), precision: 0 },
              },
            }
          : {}),
      },
    },
    plugins: [bandsPlugin],
  };
  return render(figsize, config as ChartConfiguration);
}

export function formatDuration(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY} d`;
  if (ms % HOUR === 0) return `${ms / HOUR} h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE} min`;
  return `${ms / 1000} s`;
}
