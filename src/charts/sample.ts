/**
 * Picks the points a scatter chart shows: every anomaly (the most severe ones if there are more than
 * `maxAnomalies`) plus a seeded, stratified sample of normal rows. The normal sample keeps the
 * cloud's shape (a 2-D grid over the axes, every occupied cell keeps at least one row, dense cells
 * keep rows in proportion) and its extremes (the rows at the minimum and maximum of each axis are
 * always kept), never "the first N rows".
 */
import type { ChartPoints } from '../analysis/types.ts';
import { mulberry32 } from '../lib/prng.ts';

export const DEFAULT_MAX_ANOMALIES = 20_000;

export interface SampleOptions {
  readonly maxNormal: number;
  readonly seed: number;
  readonly xName: string;
  readonly yName: string;
  /** At most this many anomalies are kept (the most severe); default 20,000. */
  readonly maxAnomalies?: number;
}

/** ChartPoints plus how many anomalies there were and how many are shown. */
export interface SampledChartPoints extends ChartPoints {
  readonly anomalyShown: number;
  readonly anomalyTotal: number;
  /** True when an axis is better read on a log scale (decided from the data, see `useLogScale`). */
  readonly logX: boolean;
  readonly logY: boolean;
}

export { mulberry32 };

/**
 * A feature is drawn on a log axis when it has no negative values and either its positive values
 * span at least three orders of magnitude, or they span at least 20× and are heavily skewed (the
 * median sits in the lowest tenth of the range: a linear axis would squash most points on it).
 */
export function useLogScale(values: ArrayLike<number>): boolean {
  let minPos = Infinity;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    if (v < 0) return false;
    if (v > 0 && v < minPos) minPos = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (!Number.isFinite(minPos)) return false;
  const ratio = max / minPos;
  if (ratio >= 1000) return true;
  if (ratio < 20) return false;
  // Median of a strided subsample (at most ~10,000 values).
  const step = Math.max(1, Math.floor(values.length / 10_000));
  const sample: number[] = [];
  for (let i = 0; i < values.length; i += step) if (Number.isFinite(values[i])) sample.push(values[i]);
  sample.sort((a, b) => a - b);
  const median = sample[Math.floor(sample.length / 2)];
  return (median - min) / (max - min) < 0.1;
}

function axisBins(values: Float64Array, keep: (i: number) => boolean, log: boolean, GRID: number): (v: number) => number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (!keep(i)) continue;
    const t = log ? Math.log10(Math.max(values[i], 1e-300)) : values[i];
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const span = hi - lo;
  if (!(span > 0)) return () => 0;
  return (v: number) => {
    const t = log ? Math.log10(Math.max(v, 1e-300)) : v;
    const b = Math.floor(((t - lo) / span) * GRID);
    return b >= GRID ? GRID - 1 : b < 0 ? 0 : b;
  };
}

export function sampleChartPoints(
  x: Float64Array,
  y: Float64Array,
  isAnomaly: Uint8Array,
  severity: Float64Array,
  opts: SampleOptions,
): SampledChartPoints {
  const n = x.length;
  if (y.length !== n || isAnomaly.length !== n || severity.length !== n) {
    throw new RangeError(`sampleChartPoints: x, y, isAnomaly and severity must have the same length (got ${n}, ${y.length}, ${isAnomaly.length}, ${severity.length})`);
  }
  const maxNormal = Math.max(0, Math.floor(opts.maxNormal));
  const maxAnomalies = Math.max(0, Math.floor(opts.maxAnomalies ?? DEFAULT_MAX_ANOMALIES));
  const finite = (i: number) => Number.isFinite(x[i]) && Number.isFinite(y[i]);

  // Anomalies: all, or the most severe `maxAnomalies`; drawn least severe first so the worst are on top.
  const anomalies: number[] = [];
  let normalTotal = 0;
  for (let i = 0; i < n; i++) {
    if (isAnomaly[i]) {
      if (finite(i)) anomalies.push(i);
    } else {
      normalTotal++;
    }
  }
  const anomalyTotal = n - normalTotal;
  anomalies.sort((a, b) => severity[b] - severity[a] || a - b);
  const keptAnomalies = anomalies.slice(0, maxAnomalies).reverse();

  // Normal rows with finite coordinates.
  const isNormal = (i: number) => !isAnomaly[i] && finite(i);
  let normalFinite = 0;
  for (let i = 0; i < n; i++) if (isNormal(i)) normalFinite++;
  const normalIdx = new Int32Array(normalFinite);
  for (let i = 0, k = 0; i < n; i++) if (isNormal(i)) normalIdx[k++] = i;

  const logX = useLogScale(x);
  const logY = useLogScale(y);
  let chosen: Int32Array;
  if (normalFinite <= maxNormal) {
    chosen = normalIdx;
  } else {
    chosen = stratifiedSample(x, y, normalIdx, maxNormal, logX, logY, mulberry32(opts.seed));
  }

  const points: [number, number, number, number, number][] = [];
  for (const i of chosen) points.push([x[i], y[i], 0, i, severity[i]]);
  for (const i of keptAnomalies) points.push([x[i], y[i], 1, i, severity[i]]);
  return {
    x: opts.xName,
    y: opts.yName,
    points,
    normalShown: chosen.length,
    normalTotal,
    anomalyShown: keptAnomalies.length,
    anomalyTotal,
    logX,
    logY,
  };
}

function stratifiedSample(
  x: Float64Array,
  y: Float64Array,
  rows: Int32Array,
  budget: number,
  logX: boolean,
  logY: boolean,
  rand: () => number,
): Int32Array {
  if (budget === 0) return new Int32Array(0);
  const picked = new Set<number>();
  // Extremes of each axis first.
  let minX = rows[0], maxX = rows[0], minY = rows[0], maxY = rows[0];
  for (const i of rows) {
    if (x[i] < x[minX]) minX = i;
    if (x[i] > x[maxX]) maxX = i;
    if (y[i] < y[minY]) minY = i;
    if (y[i] > y[maxY]) maxY = i;
  }
  for (const i of [minX, maxX, minY, maxY]) if (picked.size < budget) picked.add(i);

  // Grid cells (counting sort of rows by cell).
  const inSet = new Uint8Array(x.length);
  for (const i of rows) inSet[i] = 1;
  // The grid is sized so that "one row per occupied cell" uses at most about a fifth of the
  // budget: the rest is spread in proportion to density, so the cloud keeps its shape.
  const GRID = Math.max(2, Math.min(48, Math.floor(Math.sqrt(budget * 0.2))));
  const bx = axisBins(x, (i) => inSet[i] === 1, logX, GRID);
  const by = axisBins(y, (i) => inSet[i] === 1, logY, GRID);
  const cells = GRID * GRID;
  const cellOf = new Int32Array(rows.length);
  const count = new Int32Array(cells);
  for (let k = 0; k < rows.length; k++) {
    const c = bx(x[rows[k]]) * GRID + by(y[rows[k]]);
    cellOf[k] = c;
    count[c]++;
  }
  const start = new Int32Array(cells + 1);
  for (let c = 0; c < cells; c++) start[c + 1] = start[c] + count[c];
  const fill = start.slice(0, cells);
  const byCell = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) byCell[fill[cellOf[k]]++] = rows[k];

  // Quotas: every occupied cell gets one row (in random order if the budget is smaller than the
  // number of occupied cells), the rest in proportion to the cell's population.
  const remaining = budget - picked.size;
  const occupied: number[] = [];
  for (let c = 0; c < cells; c++) if (count[c] > 0) occupied.push(c);
  const quota = new Int32Array(cells);
  if (occupied.length >= remaining) {
    shuffle(occupied, rand);
    for (let k = 0; k < remaining; k++) quota[occupied[k]] = 1;
  } else {
    let used = 0;
    const extra = remaining - occupied.length;
    const frac: { c: number; r: number }[] = [];
    for (const c of occupied) {
      const share = ((count[c] - 1) / (rows.length - occupied.length)) * extra;
      const q = Math.min(count[c], 1 + Math.floor(share));
      quota[c] = q;
      used += q;
      frac.push({ c, r: share - Math.floor(share) });
    }
    frac.sort((a, b) => b.r - a.r || a.c - b.c);
    for (let k = 0; used < remaining && k < frac.length * 2; k++) {
      const c = frac[k % frac.length].c;
      if (quota[c] < count[c]) {
        quota[c]++;
        used++;
      }
    }
  }
  // Within each cell, a seeded partial Fisher-Yates shuffle picks its quota.
  for (const c of occupied) {
    const q = quota[c];
    if (q === 0) continue;
    const s = start[c];
    const len = count[c];
    for (let k = 0, got = 0; k < len && got < q; k++) {
      const j = k + Math.floor(rand() * (len - k));
      const t = byCell[s + k];
      byCell[s + k] = byCell[s + j];
      byCell[s + j] = t;
      const row = byCell[s + k];
      if (!picked.has(row)) {
        picked.add(row);
        got++;
      }
    }
  }
  // Top up (a cell whose rows were already picked as extremes may have come up short).
  if (picked.size < budget) {
    const rest = Array.from(rows).filter((r) => !picked.has(r));
    shuffle(rest, rand);
    for (let k = 0; picked.size < budget && k < rest.length; k++) picked.add(rest[k]);
  }
  // Trim (the extremes may have made the set one or two rows too large).
  const out = Int32Array.from(picked).sort();
  if (out.length > budget) {
    const keep = new Set([minX, maxX, minY, maxY]);
    const rest = Array.from(out).filter((r) => !keep.has(r));
    shuffle(rest, rand);
    const final = [...keep, ...rest.slice(0, budget - keep.size)].slice(0, budget);
    return Int32Array.from(final).sort();
  }
  return out;
}

function shuffle<T>(a: T[], rand: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
