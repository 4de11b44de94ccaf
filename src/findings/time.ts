/**
 * Time analysis: timeline buckets, hour-of-day and per-day profiles, bursts (buckets whose anomaly
 * rate stands far above the baseline), peak hours. Periodic patterns come from the beacon detector.
 * The flows per bucket, hour and day need the times alone (timeline, in the findings prelude); the
 * anomalies are added from the flagged rows (analyzeTime).
 */
import type { Burst, PeriodicPattern, TimeAnalysis, TimeBucket } from './types.ts';
import { orderedTimes, timeOrder } from './context.ts';

const BUCKETS_MS = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000, 604_800_000];
const MAX_BUCKETS = 240;

export function unavailableTime(): TimeAnalysis {
  return {
    available: false,
    bucketMs: 0,
    buckets: [],
    byHourOfDay: Array.from({ length: 24 }, (_, hour) => ({ hour, flows: 0, anomalies: 0 })),
    byDay: [],
    bursts: [],
    periodic: [],
    peakHours: [],
  };
}

/**
 * The flows side of the time analysis, which needs the times alone (made before the detector's
 * scores exist): the timeline's buckets, and flows per bucket, hour of day and day.
 */
export interface Timeline {
  /** Rows with a time. */
  readonly valid: number;
  readonly bucketMs: number;
  /** Start of bucket 0 (epoch ms). */
  readonly origin: number;
  readonly count: number;
  readonly flows: Float64Array;
  readonly hourFlows: Float64Array;
  /** Days as offsets from the first day (epoch days). */
  readonly firstDay: number;
  readonly dayFlows: Float64Array;
}

/**
 * The timeline of the rows (null when no row has a time); `order` is their time order
 * (timeOrder). The rows are counted in that order: the times ascend, so the range is known up
 * front and each distinct time's bucket, hour and day are worked out once.
 */
export function timeline(time: Float64Array, order: Uint32Array | null): Timeline | null {
  const byTime = order ?? timeOrder(time);
  const sorted = orderedTimes(time, byTime);
  // Missing times sort last.
  let valid = sorted.length;
  while (valid > 0 && !Number.isFinite(sorted[valid - 1])) valid--;
  if (valid === 0) return null;
  const min = sorted[0];
  const max = sorted[valid - 1];
  const span = max - min + 1;
  const bucketMs = BUCKETS_MS.find((b) => span / b <= MAX_BUCKETS) ?? BUCKETS_MS[BUCKETS_MS.length - 1];
  const origin = Math.floor(min / bucketMs) * bucketMs;
  const count = Math.floor((max - origin) / bucketMs) + 1;
  const firstDay = Math.floor(min / 86_400_000);
  const dayCount = Math.floor(max / 86_400_000) - firstDay + 1;
  const t: Timeline = { valid, bucketMs, origin, count, flows: new Float64Array(count), hourFlows: new Float64Array(24), firstDay, dayFlows: new Float64Array(dayCount) };
  countFlows(t, sorted);
  return t;
}

/** Flows per bucket, hour and day, by runs of equal times (neighbours in time order): each run's place is worked out once. */
function countFlows(t: Timeline, sorted: Float64Array): void {
  const { valid, origin, bucketMs, firstDay, flows, hourFlows, dayFlows } = t;
  for (let k = 0; k < valid; ) {
    const time = sorted[k];
    const from = k;
    while (k < valid && sorted[k] === time) k++;
    const rows = k - from;
    flows[Math.floor((time - origin) / bucketMs)] += rows;
    hourFlows[Math.floor(time / 3_600_000) % 24] += rows;
    dayFlows[Math.floor(time / 86_400_000) - firstDay] += rows;
  }
}

/**
 * The time analysis: `timeline` of the rows (null without usable times), `flaggedRows` the rows with
 * a finding (detector anomaly or behaviour hit), each once; `periodic` the beacon detector's patterns.
 * Anomalies are counted from the flagged rows alone (whole counts: the order of the additions does
 * not change them).
 */
export function analyzeTime(timeline: Timeline | null, time: Float64Array | null, flaggedRows: Int32Array, periodic: readonly PeriodicPattern[]): TimeAnalysis {
  if (!timeline || !time) return unavailableTime();
  const { valid, bucketMs, origin, count, flows, hourFlows, firstDay, dayFlows } = timeline;
  const dayCount = dayFlows.length;
  const anomalies = new Float64Array(count);
  const hourAnomalies = new Float64Array(24);
  const dayAnomalies = new Float64Array(dayCount);
  const totalAnomalies = countAnomalies(time, flaggedRows, timeline, anomalies, hourAnomalies, dayAnomalies);
  const buckets: TimeBucket[] = [];
  for (let b = 0; b < count; b++) buckets.push({ start: origin + b * bucketMs, flows: flows[b], anomalies: anomalies[b] });

  // Bursts: anomaly rate far above the overall rate (binomial z >= 4, at least 3x, at least 5 anomalies).
  const baselineRate = totalAnomalies / valid;
  const isBurst = (b: number) => {
    if (anomalies[b] < 5 || flows[b] === 0) return false;
    const rate = anomalies[b] / flows[b];
    const sd = Math.sqrt(Math.max(baselineRate * (1 - baselineRate), 1e-12) / flows[b]);
    return rate >= 3 * baselineRate && (rate - baselineRate) / sd >= 4;
  };
  const bursts: Burst[] = [];
  for (let b = 0; b < count; b++) {
    if (!isBurst(b)) continue;
    let e = b;
    while (e + 1 < count && isBurst(e + 1)) e++;
    let f = 0;
    let a = 0;
    for (let x = b; x <= e; x++) {
      f += flows[x];
      a += anomalies[x];
    }
    bursts.push({
      start: origin + b * bucketMs,
      end: origin + (e + 1) * bucketMs,
      flows: f,
      anomalies: a,
      rate: Math.round((a / f) * 10000) / 10000,
      baselineRate: Math.round(baselineRate * 10000) / 10000,
    });
    b = e;
  }

  const byHourOfDay = Array.from({ length: 24 }, (_, hour) => ({ hour, flows: hourFlows[hour], anomalies: hourAnomalies[hour] }));
  const meanHourly = totalAnomalies / 24;
  let peakHours = byHourOfDay
    .filter((h) => h.anomalies > 0 && h.anomalies >= 2 * meanHourly)
    .sort((x, y) => y.anomalies - x.anomalies)
    .map((h) => h.hour);
  if (peakHours.length === 0 && totalAnomalies > 0) {
    const top = byHourOfDay.reduce((x, y) => (y.anomalies > x.anomalies ? y : x));
    peakHours = [top.hour];
  }
  const byDay: { day: string; flows: number; anomalies: number }[] = [];
  for (let d = 0; d < dayCount; d++) {
    if (dayFlows[d] > 0) byDay.push({ day: new Date((firstDay + d) * 86_400_000).toISOString().slice(0, 10), flows: dayFlows[d], anomalies: dayAnomalies[d] });
  }
  return { available: true, bucketMs, buckets, byHourOfDay, byDay, bursts, periodic, peakHours };
}

/** Flagged rows with a time per bucket, hour and day (into the arrays); returns how many. */
function countAnomalies(time: Float64Array, rows: Int32Array, t: Timeline, anomalies: Float64Array, hourAnomalies: Float64Array, dayAnomalies: Float64Array): number {
  const { origin, bucketMs, firstDay } = t;
  let total = 0;
  for (let x = 0; x < rows.length; x++) {
    const v = time[rows[x]];
    if (!Number.isFinite(v)) continue;
    anomalies[Math.floor((v - origin) / bucketMs)]++;
    hourAnomalies[Math.floor(v / 3_600_000) % 24]++;
    dayAnomalies[Math.floor(v / 86_400_000) - firstDay]++;
    total++;
  }
  return total;
}
