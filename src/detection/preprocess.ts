/**
 * Preprocessing, pure functions: mean imputation of missing values, standard scaling (as sklearn's
 * SimpleImputer(strategy='mean') then StandardScaler: population std, std 0 → scale 1), and
 * per-feature training statistics. Columns are unscaled Float64Arrays, one per feature; a missing
 * value is NaN (±Infinity is treated as missing too and counted).
 */
import { selectQuantiles } from './math.ts';
import type { FeatureStats } from './types.ts';

/** Points in FeatureStats.quantiles: 0, 1, ..., 100 percent. */
export const STAT_QUANTILES = 101;

export interface Scaler {
  /** Training mean of each column (of its finite values); also the imputation value. */
  readonly mean: Float64Array;
  /** Population std of the imputed column, or 1 where it is 0 (or not finite). */
  readonly scale: Float64Array;
}

export interface ImputeScaleFit {
  readonly scaler: Scaler;
  /** Values imputed per column. */
  readonly imputed: Int32Array;
  /** Population std of each imputed column (0 for a constant column). */
  readonly std: Float64Array;
  /** Columns with no finite value at all (imputed with 0). */
  readonly allMissing: readonly number[];
}

/** Means (of finite values), counts of missing values, and std after imputation, per column. */
export function fitImputeScale(columns: readonly Float64Array[]): ImputeScaleFit {
  const k = columns.length;
  const mean = new Float64Array(k);
  const scale = new Float64Array(k);
  const imputed = new Int32Array(k);
  const stds = new Float64Array(k);
  const allMissing: number[] = [];
  for (let c = 0; c < k; c++) {
    const col = columns[c];
    const n = col.length;
    let sum = 0;
    let finite = 0;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v - v === 0) {
        sum += v;
        finite++;
      }
    }
    imputed[c] = n - finite;
    if (finite === 0) {
      allMissing.push(c);
      mean[c] = 0;
      scale[c] = 1;
      continue;
    }
    let m = sum / finite;
    // One correction pass (as numpy's pairwise-ish accuracy is not needed, but drift is avoided).
    let corr = 0;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v - v === 0) corr += v - m;
    }
    m += corr / finite;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (v - v === 0) {
        const d = v - m;
        ss += d * d;
      }
    }
    const std = Math.sqrt(ss / n); // imputed values sit at the mean: they add 0
    mean[c] = m;
    stds[c] = std;
    scale[c] = std > 0 && Number.isFinite(std) ? std : 1;
  }
  return { scaler: { mean, scale }, imputed, std: stds, allMissing };
}

/** The scaled value of one (possibly missing) raw value of column c, float32-rounded as scored. */
export function scaleValue(scaler: Scaler, c: number, v: number): number {
  const x = v - v === 0 ? v : scaler.mean[c];
  return Math.fround((x - scaler.mean[c]) / scaler.scale[c]);
}

/**
 * Row-major float32 matrix of imputed, scaled values (on a SharedArrayBuffer when `shared`, so score
 * workers read it without copying). Returns the matrix and the count of imputed values per column.
 */
export function transformColumns(
  columns: readonly Float64Array[],
  scaler: Scaler,
  shared = true,
): { data: Float32Array; rows: number; cols: number; imputed: Int32Array } {
  const cols = columns.length;
  const rows = cols > 0 ? columns[0].length : 0;
  const data = shared
    ? new Float32Array(new SharedArrayBuffer(Math.max(1, rows * cols) * 4), 0, rows * cols)
    : new Float32Array(rows * cols);
  const imputed = new Int32Array(cols);
  for (let c = 0; c < cols; c++) {
    const col = columns[c];
    const m = scaler.mean[c];
    const inv = scaler.scale[c];
    let miss = 0;
    for (let i = 0, o = c; i < rows; i++, o += cols) {
      const v = col[i];
      if (v - v === 0) data[o] = (v - m) / inv;
      else {
        data[o] = 0; // (mean - mean) / scale
        miss++;
      }
    }
    imputed[c] = miss;
  }
  return { data, rows, cols, imputed };
}

/**
 * Training statistics of one column after imputation with `mean` (counts `imputed` rows). Min, max,
 * median and quantiles are selected, not sorted for (see selectQuantiles): the same numbers a sort
 * gives, several times faster.
 */
export function featureStats(
  name: string,
  column: Float64Array,
  mean: number,
  std: number,
  quantileCount: number = STAT_QUANTILES,
): FeatureStats {
  const n = column.length;
  let imputed = 0;
  for (let i = 0; i < n; i++) {
    const v = column[i];
    if (!(v - v === 0)) imputed++;
  }
  let filled = column;
  if (imputed > 0) {
    filled = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const v = column[i];
      filled[i] = v - v === 0 ? v : mean;
    }
  }
  const qs: number[] = [0.5];
  for (let k = 0; k < quantileCount; k++) qs.push(k / (quantileCount - 1));
  const { quantiles, atRanks } = selectQuantiles(filled, qs, n > 0 ? [0, n - 1] : []);
  return {
    name,
    mean,
    std,
    min: n > 0 ? atRanks[0] : NaN,
    max: n > 0 ? atRanks[1] : NaN,
    median: quantiles[0],
    quantiles: quantiles.slice(1),
    imputed,
  };
}

/**
 * Percentile (0..100) of `value` within the training data, interpolated from the stats' quantiles;
 * where several quantiles equal the value, the middle of their range.
 */
export function percentileOf(stats: FeatureStats, value: number): number {
  const q = stats.quantiles;
  const k = q.length;
  if (k < 2 || Number.isNaN(value)) return NaN;
  if (value < q[0]) return 0;
  if (value > q[k - 1]) return 100;
  // a = #quantiles < value, b = #quantiles <= value
  let lo = 0;
  let hi = k;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (q[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  const a = lo;
  hi = k;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (q[mid] <= value) lo = mid + 1;
    else hi = mid;
  }
  const b = lo;
  const step = 100 / (k - 1);
  if (b > a) return ((a + b - 1) / 2) * step;
  const x0 = q[a - 1];
  const x1 = q[a];
  return (a - 1 + (value - x0) / (x1 - x0)) * step;
}
