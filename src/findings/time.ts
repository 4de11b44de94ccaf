/**
 * Time analysis: timeline buckets, hour-of-day and per-day profiles, bursts (buckets whose anomaly
 * rate stands far above the baseline), peak hours. Periodic patterns come from the beacon detector.
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
 * `flagged[i]` = 1 for rows with a finding (detector anomaly or behaviour hit); `order` is the time
 * order of the rows (timeOrder). The rows are counted in that order: the times ascend, so the
 * range is known up front and each distinct time's bucket, hour and day are worked out once.
 */
export function analyzeTime(time: Float64Array | null, order: Uint32Array | null, flagged: Uint8Array, periodic: readonly PeriodicPattern[]): TimeAnalysis {
  if (!time) return unavailableTime();
  const byTime = order ?? timeOrder(time);
  const sorted = orderedTimes(time, byTime);
  // Missing times sort last.
  let valid = sorted.length;
  while (valid > 0 && !Number.isFinite(sorted[valid - 1])) valid--;
  if (valid === 0) return unavailableTime();
  const min = sorted[0];
  const max = sorted[valid - 1];
  const span = max - min + 1;
  const bucketMs = BUCKETS_MS.find((b) => span / b <= MAX_BUCKETS) ?? BUCKETS_MS[BUCKETS_MS.length - 1];
  const origin = Math.floor(min / bucketMs) * bucketMs;
  const count = Math.floor((max - origin) / bucketMs) + 1;
  const flows = new Float64Array(count);
  const anomalies = new Float64Array(count);
  const hourFlows = new Float64Array(24);
  const hourAnomalies = new Float64Array(24);
  // Days as offsets from the first day: two counters per day instead of a Map lookup per row.
  const firstDay = Math.floor(min / 86_400_000);
  const dayCount = Math.floor(max / 86_400_000) - firstDay + 1;
  const dayFlows = new Float64Array(dayCount);
  const dayAnomalies = new Float64Array(dayCount);
  let totalAnomalies = 0;
  // Runs of equal times (neighbours here): bucket, hour and day worked out once per run, the run's
  // flows and flagged rows added at once.
  for (let k = 0; k < valid; ) {
    const t = sorted[k];
    let f = 0;
    const from = k;
    while (k < valid && sorted[k] === t) f += flagged[byTime[k++]];
    const rows = k - from;
    const b = Math.floor((t - origin) / bucketMs);
    const hour = Math.floor(t / 3_600_000) % 24;
    const d = Math.floor(t / 86_400_000) - firstDay;
    flows[b] += rows;
    anomalies[b] += f;
    hourFlows[hour] += rows;
    hourAnomalies[hour] += f;
    dayFlows[d] += rows;
    dayAnomalies[d] += f;
    totalAnomalies += f;
  }
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
