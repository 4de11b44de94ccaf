/**
 * Picks the points a scatter chart shows: every anomaly (the most severe ones if there are more than
 * `maxAnomalies`) plus a seeded, stratified sample of normal rows. The normal sample keeps the
 * cloud's shape (a 2-D grid over the axes, every occupied cell keeps at least one row, dense cells
 * keep rows in proportion) and its extremes (the rows at the minimum and maximum of each axis are
 * always kept), never "the first N rows".
 */
import type { ChartPoints } from '../analysis/types.ts';
import { mulberry32 } from '../lib/prng.ts';

/**
 * Anomalies drawn at most (the most severe, and the chart says so): every anomaly of a 1M-row file
 * at the default 5 % (50,000, rendered in ~0.13 s), a bound only for extreme sizes and shares.
 */
export const DEFAULT_MAX_ANOMALIES = 200_000;

export interface SampleOptions {
  readonly maxNormal: number;
  readonly seed: number;
  readonly xName: string;
  readonly yName: string;
  /** At most this many anomalies are kept (the most severe); default DEFAULT_MAX_ANOMALIES. */
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
  const stats = new ValueStats();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v === 0) stats.add(v);
  }
  return stats.logScale(values);
}

/** Minimum, maximum, smallest positive value and any negative one, over the finite values added. */
class ValueStats {
  min = Infinity;
  max = -Infinity;
  minPos = Infinity;
  negative = false;
  add(v: number): void {
    if (v < 0) this.negative = true;
    if (v > 0 && v < this.minPos) this.minPos = v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  /** `useLogScale(values)` given the stats of every finite value in `values`. */
  logScale(values: ArrayLike<number>): boolean {
    if (this.negative) return false;
    const { min, max, minPos } = this;
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
}

/**
 * Rows ordered most severe first, ties by row (ascending); NaN severities count as least severe.
 * A stable LSD radix sort on the severities' bit patterns: exact, and much faster than a comparator
 * sort for tens of thousands of rows. `rows` must be in ascending order.
 */
export function orderBySeverity(rows: Int32Array, severity: Float64Array): Int32Array {
  const m = rows.length;
  // Sort keys as two 32-bit halves, so that ascending key = descending severity.
  const hi = new Uint32Array(m);
  const lo = new Uint32Array(m);
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  const H = HI;
  const L = 1 - HI;
  for (let k = 0; k < m; k++) {
    const v = severity[rows[k]];
    if (v !== v) {
      hi[k] = 0xffffffff;
      lo[k] = 0xffffffff;
      continue;
    }
    f[0] = v === 0 ? 0 : v; // -0 sorts as 0
    let h = u[H];
    let l = u[L];
    // Ascending order of doubles as unsigned integers: flip negatives, set the sign bit of the rest.
    if (h & 0x80000000) {
      h = ~h;
      l = ~l;
    } else {
      h |= 0x80000000;
    }
    // Descending: invert. (No number's key is all ones: NaN's key sorts after every number.)
    hi[k] = ~h >>> 0;
    lo[k] = ~l >>> 0;
  }
  let order = new Int32Array(m);
  for (let k = 0; k < m; k++) order[k] = k;
  let next = new Int32Array(m);
  const count = new Uint32Array(65537);
  for (let pass = 0; pass < 4; pass++) {
    const words = pass < 2 ? lo : hi;
    const shift = (pass & 1) * 16;
    count.fill(0);
    for (let k = 0; k < m; k++) count[((words[order[k]] >>> shift) & 0xffff) + 1]++;
    let same = false;
    for (let b = 0; b < 65536; b++) {
      if (count[b + 1] === m) same = true;
      count[b + 1] += count[b];
    }
    if (same) continue; // every key has the same 16 bits here: the order stands
    for (let k = 0; k < m; k++) {
      const o = order[k];
      next[count[(words[o] >>> shift) & 0xffff]++] = o;
    }
    const t = order;
    order = next;
    next = t;
  }
  const out = new Int32Array(m);
  for (let k = 0; k < m; k++) out[k] = rows[order[k]];
  return out;
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

  let anomalyTotal = 0;
  for (let i = 0; i < n; i++) if (isAnomaly[i]) anomalyTotal++;
  const normalTotal = n - anomalyTotal;

  // One pass over the rows: anomalies with finite coordinates (in row order), what useLogScale
  // needs of each axis, and the normal rows with finite coordinates: how many, and the first row at
  // the minimum and at the maximum of each axis.
  const anomalyRows = new Int32Array(anomalyTotal);
  let na = 0;
  const sx = new ValueStats();
  const sy = new ValueStats();
  let count = 0;
  let minX = -1, maxX = -1, minY = -1, maxY = -1;
  let loX = 0, hiX = 0, loY = 0, hiY = 0;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    const yi = y[i];
    const finiteX = xi - xi === 0; // not NaN or ±Infinity
    const finiteY = yi - yi === 0;
    if (finiteX) sx.add(xi);
    if (finiteY) sy.add(yi);
    if (!finiteX || !finiteY) continue;
    if (isAnomaly[i]) {
      anomalyRows[na++] = i;
    } else if (count++ === 0) {
      minX = maxX = minY = maxY = i;
      loX = hiX = xi;
      loY = hiY = yi;
    } else {
      if (xi < loX) {
        loX = xi;
        minX = i;
      } else if (xi > hiX) {
        hiX = xi;
        maxX = i;
      }
      if (yi < loY) {
        loY = yi;
        minY = i;
      } else if (yi > hiY) {
        hiY = yi;
        maxY = i;
      }
    }
  }
  const ext: Extremes = { count, minX, maxX, minY, maxY, loX, hiX, loY, hiY };

  // Anomalies: all, or the most severe `maxAnomalies`; drawn least severe first so the worst are on top.
  const ranked = orderBySeverity(anomalyRows.subarray(0, na), severity);
  const keptAnomalies = ranked.subarray(0, Math.min(maxAnomalies, na)).reverse();

  const logX = sx.logScale(x);
  const logY = sy.logScale(y);
  const chosen = count <= maxNormal ? normalRows(x, y, isAnomaly, count) : stratifiedSample(x, y, isAnomaly, ext, maxNormal, logX, logY, mulberry32(opts.seed));

  const points: [number, number, number, number, number][] = new Array(chosen.length + keptAnomalies.length);
  let k = 0;
  for (let j = 0; j < chosen.length; j++) {
    const i = chosen[j];
    points[k++] = [x[i], y[i], 0, i, severity[i]];
  }
  for (let j = 0; j < keptAnomalies.length; j++) {
    const i = keptAnomalies[j];
    points[k++] = [x[i], y[i], 1, i, severity[i]];
  }
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

/** The normal rows with finite coordinates: how many, and the first row at each axis' minimum and maximum (and those values). */
interface Extremes {
  readonly count: number;
  readonly minX: number;
  readonly maxX: number;
  readonly minY: number;
  readonly maxY: number;
  readonly loX: number;
  readonly hiX: number;
  readonly loY: number;
  readonly hiY: number;
}

/** The normal rows with finite coordinates, in row order (`count` of them). */
function normalRows(x: Float64Array, y: Float64Array, isAnomaly: Uint8Array, count: number): Int32Array {
  const rows = new Int32Array(count);
  for (let i = 0, k = 0; i < x.length && k < count; i++) {
    if (isAnomaly[i] || x[i] - x[i] !== 0 || y[i] - y[i] !== 0) continue;
    rows[k++] = i;
  }
  return rows;
}

function stratifiedSample(
  x: Float64Array,
  y: Float64Array,
  isAnomaly: Uint8Array,
  ext: Extremes,
  budget: number,
  logX: boolean,
  logY: boolean,
  rand: () => number,
): Int32Array {
  if (budget === 0) return new Int32Array(0);
  const n = x.length;
  const m = ext.count;
  const { minX, maxX, minY, maxY } = ext;
  const picked = new Set<number>();
  // Extremes of each axis first.
  for (const i of [minX, maxX, minY, maxY]) if (picked.size < budget) picked.add(i);

  // Grid cells (counting sort of rows by cell). The grid is sized so that "one row per occupied
  // cell" uses at most about a fifth of the budget: the rest is spread in proportion to density,
  // so the cloud keeps its shape. Each axis is cut into GRID equal bins over [min, max] of its
  // (log) values; the transform is non-decreasing, so its range is the transform of the extremes.
  const GRID = Math.max(2, Math.min(48, Math.floor(Math.sqrt(budget * 0.2))));
  const cells = GRID * GRID;
  const bx = new AxisBins(x, logX, ext.loX, ext.hiX, GRID);
  const by = new AxisBins(y, logY, ext.loY, ext.hiY, GRID);
  const NONE = 0xffff; // cells ≤ 48² < NONE
  const cellOf = new Uint16Array(n).fill(NONE);
  const count = new Int32Array(cells);
  for (let i = 0; i < n; i++) {
    if (isAnomaly[i]) continue;
    const xi = x[i];
    const yi = y[i];
    if (xi - xi !== 0 || yi - yi !== 0) continue;
    const c = bx.bin(i) * GRID + by.bin(i);
    cellOf[i] = c;
    count[c]++;
  }
  const start = new Int32Array(cells + 1);
  for (let c = 0; c < cells; c++) start[c + 1] = start[c] + count[c];
  const fill = start.slice(0, cells);
  const byCell = new Int32Array(m);
  for (let i = 0; i < n; i++) {
    const c = cellOf[i];
    if (c !== NONE) byCell[fill[c]++] = i;
  }

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
      const share = ((count[c] - 1) / (m - occupied.length)) * extra;
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
    const rows = normalRows(x, y, isAnomaly, m);
    const rest: number[] = [];
    for (let k = 0; k < m; k++) if (!picked.has(rows[k])) rest.push(rows[k]);
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

/** Transform of an axis value before binning (log10 on a log axis; non-positive values go to the bottom bin). */
function axisValue(v: number, log: boolean): number {
  return log ? Math.log10(Math.max(v, 1e-300)) : v;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
/** Bits of a double's high word kept in a log-bin lookup key: sign, exponent and 8 mantissa bits. */
const KEY_SHIFT = 12;

/**
 * The bin of each value of an axis: GRID equal bins over [lo, hi] of the (log) values, as
 * `floor((t(v) - t(lo)) / (t(hi) - t(lo)) × GRID)` clamped to the grid (all in bin 0 when hi = lo).
 * On a log axis the bin is read from a table indexed by the top bits of the value's high word (a key
 * covers values within 0.4 % of each other; the table holds the bin where all of them share one),
 * so that log10 is computed only for values next to a bin boundary, not for a million rows.
 */
export class AxisBins {
  private readonly t0: number;
  private readonly span: number;
  private readonly flat: boolean;
  private readonly kMin: number = 0;
  private readonly table: Int8Array = new Int8Array(0);
  private readonly words: Uint32Array | null = null;

  constructor(
    private readonly values: Float64Array,
    private readonly log: boolean,
    lo: number,
    hi: number,
    private readonly GRID: number,
  ) {
    this.t0 = axisValue(lo, log);
    this.span = axisValue(hi, log) - this.t0;
    this.flat = !(this.span > 0);
    if (this.flat || !log) return;
    // Keys of non-negative doubles grow with the value: [lo, hi] (lo ≥ 0 on a log axis) spans keys
    // kMin..kMax. The bin of a key's smallest value never decreases with the key, and neither does
    // that of its largest, so the table is filled in runs between the keys where a bin starts
    // (found by bisection): a few hundred log10 calls whatever the range.
    const f = new Float64Array(1);
    const u = new Uint32Array(f.buffer);
    const L = 1 - HI;
    const keyOf = (v: number) => {
      f[0] = v;
      return u[HI] >>> KEY_SHIFT;
    };
    const firstOf = (key: number) => {
      u[HI] = key << KEY_SHIFT;
      u[L] = 0;
      return f[0];
    };
    const lastOf = (key: number) => {
      u[HI] = ((key + 1) << KEY_SHIFT) - 1;
      u[L] = 0xffffffff;
      return f[0];
    };
    const kMin = keyOf(Math.max(lo, 0));
    const kMax = keyOf(hi);
    const table = new Int8Array(kMax - kMin + 1);
    let from = kMin; // keys before `from` are filled; every value of key `from` is in bin ≥ j - 1
    for (let j = 1; j < GRID && from <= kMax; j++) {
      // The first key with a value in bin ≥ j.
      let a = from;
      let b = kMax + 1;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (this.exact(lastOf(mid)) >= j) b = mid;
        else a = mid + 1;
      }
      table.fill(j - 1, from - kMin, a - kMin);
      if (a <= kMax) {
        const first = this.exact(firstOf(a));
        table[a - kMin] = first === this.exact(lastOf(a)) ? first : -1;
      }
      from = a + 1;
    }
    if (from <= kMax) table.fill(GRID - 1, from - kMin);
    this.kMin = kMin;
    this.table = table;
    this.words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2);
  }

  /** The bin of a value, computed. */
  exact(v: number): number {
    if (this.flat) return 0;
    const b = Math.floor(((axisValue(v, this.log) - this.t0) / this.span) * this.GRID);
    return b >= this.GRID ? this.GRID - 1 : b < 0 ? 0 : b;
  }

  /** The bin of row i's value. */
  bin(i: number): number {
    if (this.flat) return 0;
    const words = this.words;
    if (words === null) {
      const b = Math.floor(((this.values[i] - this.t0) / this.span) * this.GRID);
      return b >= this.GRID ? this.GRID - 1 : b < 0 ? 0 : b;
    }
    const at = (words[2 * i + HI] >>> KEY_SHIFT) - this.kMin;
    const b = at >= 0 && at < this.table.length ? this.table[at] : -1;
    return b >= 0 ? b : this.exact(this.values[i]);
  }
}
