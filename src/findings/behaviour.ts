/**
 * Behaviour detectors over ALL flows (not only the detector's outliers): scans, floods, brute force,
 * exfiltration and beaconing are often made of flows that each look normal. Every threshold is
 * relative to the data's own baseline (with an absolute floor). Hits are written into typed arrays.
 */
import type { AttackType, PeriodicPattern } from './types.ts';
import type { Context, Groups } from './context.ts';
import { codeBuffer, destinationGroups, groupBy, KeyIndex, orderedTimes, pairCodes, quantileSorted, restrictCodes, restrictRows, rowsWhere, sortNumbers } from './context.ts';
import { AUTH_PORTS, isInternal } from './rules.ts';

export const TYPE_CODES: readonly AttackType[] = ['ddos', 'port_scan', 'brute_force', 'data_exfiltration', 'beaconing', 'protocol_misuse', 'untyped'];
export const code = (t: AttackType): number => TYPE_CODES.indexOf(t);

export interface HitReason {
  readonly text: string;
  readonly technique: string;
}

/** Behaviour hits per row: the strongest one wins. actor/target are address codes (-1 = many / unknown). */
export class Hits {
  readonly type: Int8Array;
  readonly confidence: Float32Array;
  readonly reason: Int32Array;
  readonly actor: Int32Array;
  readonly target: Int32Array;
  readonly reasons: HitReason[] = [];
  count = 0;

  constructor(n: number) {
    this.type = new Int8Array(n).fill(-1);
    this.confidence = new Float32Array(n);
    this.reason = new Int32Array(n).fill(-1);
    this.actor = new Int32Array(n).fill(-1);
    this.target = new Int32Array(n).fill(-1);
  }

  addReason(text: string, technique: string): number {
    this.reasons.push({ text, technique });
    return this.reasons.length - 1;
  }

  set(row: number, type: AttackType, confidence: number, reason: number, actor: number, target: number): void {
    if (this.type[row] >= 0 && this.confidence[row] >= confidence) return;
    if (this.type[row] < 0) this.count++;
    this.type[row] = code(type);
    this.confidence[row] = confidence;
    this.reason[row] = reason;
    this.actor[row] = actor;
    this.target[row] = target;
  }
}

export interface BehaviourOptions {
  /** Flood window in seconds (default 60). */
  readonly floodWindowSeconds: number;
  /** Brute-force window in seconds (default 600). */
  readonly bruteWindowSeconds: number;
  /** Beacon: minimum connections in a pair (default 8) and maximum jitter (coefficient of variation, default 0.25). */
  readonly beaconMinConnections: number;
  readonly beaconMaxJitter: number;
}

export const DEFAULT_BEHAVIOUR: BehaviourOptions = {
  floodWindowSeconds: 60,
  bruteWindowSeconds: 600,
  beaconMinConnections: 8,
  beaconMaxJitter: 0.25,
};

const fmtDuration = (sec: number): string =>
  sec < 90 ? `${Math.round(sec)} s` : sec < 5400 ? `${Math.round(sec / 60)} min` : `${(sec / 3600).toFixed(1)} h`;

/** Small-flow probes per source: vertical (many ports on one host) and horizontal (one port, many hosts) scans. */
export function detectScans(ctx: Context, hits: Hits, order: Uint32Array | null): void {
  const { src, dst, dport } = ctx;
  const packets = ctx.metrics.packets;
  const bytes = ctx.metrics.bytes;
  if (!src || !dst || !dport || !packets) return;
  const n = ctx.n;
  const nAddr = ctx.addresses.length;
  const probe = new Uint8Array(n);
  for (let i = 0; i < n; i++) probe[i] = packets[i] <= 3 && (!bytes || bytes[i] <= 400) && src[i] >= 0 && dst[i] >= 0 ? 1 : 0;
  // The probes (a fifth of the rows or fewer), in row order and in time order: both scans read only these.
  const probeRows = rowsWhere(probe, null);
  const probeOrder = order ? rowsWhere(probe, order) : probeRows;

  const scanOne = (kind: 'vertical' | 'horizontal') => {
    // Group codes of the probes, numbered in order of first appearance: vertical by address pair (the
    // context's pair codes restricted to the probes), horizontal by source and port.
    const codes = codeBuffer(ctx);
    let pair: { count: number; remap: Int32Array | null };
    if (kind === 'vertical') {
      const pc = pairCodes(ctx);
      pair = restrictRows(pc.pair, pc.pairCount, probeRows, codes);
    } else {
      const index = new KeyIndex(1024);
      for (let x = 0; x < probeRows.length; x++) {
        const i = probeRows[x];
        const key = src[i] * 65536 + dport[i];
        codes[i] = key === key ? index.add(key) : -1; // a NaN port is no group
      }
      pair = { count: index.size, remap: null };
    }
    const groups = groupBy(codes, pair.count, probeOrder);
    // Distinct ports (vertical) or hosts (horizontal) per group.
    const distinct = kind === 'vertical' ? distinctPorts(groups, dport) : distinctHosts(groups, dst, nAddr);
    // Baseline: the median group (robust when the scan itself is most of the data, as in a capture).
    const typical = quantileSorted(sortNumbers(Float64Array.from(distinct)), 0.5);
    const threshold = Math.max(15, 10 * typical);
    // The scans: groups with enough distinct ports / hosts, fast enough (decided before any hit is set).
    const scans: number[] = [];
    const spans: number[] = [];
    for (let g = 0; g < groups.count; g++) {
      if (distinct[g] < threshold) continue;
      // The scanned host's replies (many scanner ports) are not a scan: the direction with more ports wins.
      if (kind === 'vertical') {
        const i = groups.rows[groups.start[g]];
        const backPair = pairCodes(ctx).pairIndex.get((dst[i] + 1) * (nAddr + 1) + src[i] + 1);
        const back = backPair >= 0 ? pair.remap![backPair] : -1;
        if ((back >= 0 ? distinct[back] : 0) > distinct[g]) continue;
      }
      const a = groups.start[g];
      const b = groups.start[g + 1];
      let spanSec = 0;
      if (ctx.time) {
        spanSec = spanSeconds(ctx.time, groups.rows, a, b);
        // Slow, day-long spreads of small flows (NTP, DNS to many resolvers) are not scans.
        if (distinct[g] / (spanSec / 3600 + 1) < 10) continue;
      }
      scans.push(g);
      spans.push(spanSec);
    }
    // Replies of each vertical scan's host to its scanner: one pass over the table for all scans.
    const replies = kind === 'vertical' && scans.length > 0 ? replyRows(ctx, packets, scans.map((g) => groups.rows[groups.start[g]])) : null;
    for (let x = 0; x < scans.length; x++) {
      const g = scans[x];
      const spanSec = spans[x];
      const a = groups.start[g];
      const b = groups.start[g + 1];
      const first = groups.rows[a];
      const actor = src[first];
      const target = kind === 'vertical' ? dst[first] : -1;
      const what =
        kind === 'vertical'
          ? `${ctx.addresses[actor]} probed ${distinct[g]} ports on ${ctx.addresses[dst[first]]}`
          : `${ctx.addresses[actor]} probed port ${dport[first]} on ${distinct[g]} hosts`;
      const reason = hits.addReason(
        `${kind} scan: ${what} with ${b - a} tiny flows (≤ 3 packets)${ctx.time ? ` in ${fmtDuration(spanSec)}` : ''}; a typical source touches ${typical}`,
        'T1046',
      );
      const conf = Math.min(0.98, 0.75 + 0.05 * Math.log2(distinct[g] / threshold + 1));
      for (let k = a; k < b; k++) hits.set(groups.rows[k], 'port_scan', conf, reason, actor, target);
      if (kind === 'vertical') {
        // Replies of the scanned host (RST / SYN-ACK back to the scanner) belong to the same incident.
        const scanner = actor;
        const victim = dst[first];
        const replyReason = hits.addReason(`reply from the scanned host ${ctx.addresses[victim]} to the scanner ${ctx.addresses[scanner]}`, 'T1046');
        for (const i of replies!.get(victim * nAddr + scanner)!) hits.set(i, 'port_scan', conf - 0.05, replyReason, scanner, victim);
      }
    }
  };
  scanOne('vertical');
  scanOne('horizontal');
}

/** Distinct ports per group: whole ports by stamp, a NaN or fractional port as Map keys would count it. */
function distinctPorts(groups: Groups, dport: Float64Array): Int32Array {
  const distinct = new Int32Array(groups.count);
  const stamp = new Int32Array(65536).fill(-1);
  let odd: Set<number> | null = null;
  for (let g = 0; g < groups.count; g++) {
    odd?.clear();
    let d = 0;
    for (let k = groups.start[g]; k < groups.start[g + 1]; k++) {
      const v = dport[groups.rows[k]];
      if (v >= 0 && v <= 65535 && v === Math.floor(v)) {
        if (stamp[v] !== g) {
          stamp[v] = g;
          d++;
        }
      } else (odd ??= new Set()).add(v);
    }
    distinct[g] = d + (odd ? odd.size : 0);
  }
  return distinct;
}

/** Distinct destination hosts per group. */
function distinctHosts(groups: Groups, dst: Int32Array, addresses: number): Int32Array {
  const distinct = new Int32Array(groups.count);
  const stamp = new Int32Array(addresses).fill(-1);
  for (let g = 0; g < groups.count; g++) {
    let d = 0;
    for (let k = groups.start[g]; k < groups.start[g + 1]; k++) {
      const v = dst[groups.rows[k]];
      if (stamp[v] !== g) {
        stamp[v] = g;
        d++;
      }
    }
    distinct[g] = d;
  }
  return distinct;
}

/** Seconds from the first to the last time of rows[a..b) (0 when not finite). */
function spanSeconds(time: Float64Array, rows: Uint32Array, a: number, b: number): number {
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = a; k < b; k++) {
    const t = time[rows[k]];
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  return Number.isFinite(hi - lo) ? (hi - lo) / 1000 : 0;
}

/**
 * Rows with at most 3 packets from each scan's target back to its scanner (the scan's first probe
 * row gives both), in row order, keyed by target × addresses + scanner.
 */
function replyRows(ctx: Context, packets: Float64Array, probes: readonly number[]): Map<number, number[]> {
  const src = ctx.src!;
  const dst = ctx.dst!;
  const nAddr = ctx.addresses.length;
  const out = new Map<number, number[]>();
  const victim = new Uint8Array(nAddr);
  for (const i of probes) {
    out.set(dst[i] * nAddr + src[i], []);
    victim[dst[i]] = 1;
  }
  for (let i = 0; i < ctx.n; i++) {
    const s = src[i];
    if (s >= 0 && victim[s] === 1 && packets[i] <= 3 && dst[i] >= 0) out.get(s * nAddr + dst[i])?.push(i);
  }
  return out;
}

/** Many sources converging on one destination in a short window, far above that destination's usual rate. */
export function detectFloods(ctx: Context, hits: Hits, order: Uint32Array, opts: BehaviourOptions): void {
  const { src, dst, time } = ctx;
  if (!src || !dst || !time) return;
  const groups = destinationGroups(ctx, order);
  const windowMs = opts.floodWindowSeconds * 1000;
  let most = 0;
  for (let g = 0; g < groups.count; g++) most = Math.max(most, groups.start[g + 1] - groups.start[g]);
  const windows = new FloodWindows(most, ctx.addresses.length, src, groups);
  for (let g = 0; g < groups.count; g++) {
    const a = groups.start[g];
    const b = groups.start[g + 1];
    if (b - a < 20) continue;
    const count = windows.scan(a, b, windowMs);
    const { wStart, wCount, wSources } = windows;
    const median = windows.median(count);
    const threshold = Math.max(20, 5 * median);
    for (let w = 0; w < count; w++) {
      if (wCount[w] < threshold || wSources[w] < 10) continue;
      // Merge a run of flagged windows into one hit group.
      let e = w;
      while (e + 1 < count && wCount[e + 1] >= threshold / 2 && wSources[e + 1] >= 5) e++;
      recordFlood(ctx, hits, opts, windows, g, a, b, w, e, median, threshold);
      w = e;
    }
  }
}

/**
 * The windows of one destination's rows (in time order) at a time: start index in group order, rows
 * and distinct sources per window (at most one window per row), in arrays reused from one destination
 * to the next; distinct sources are counted with stamps.
 */
class FloodWindows {
  readonly wStart: Int32Array;
  readonly wCount: Int32Array;
  readonly wSources: Int32Array;
  private readonly sorted: Float64Array;
  private readonly stamp: Int32Array;
  private stampId = 0;

  constructor(
    most: number,
    addresses: number,
    private readonly src: Int32Array,
    readonly groups: Groups,
  ) {
    this.wStart = new Int32Array(most);
    this.wCount = new Int32Array(most);
    this.wSources = new Int32Array(most);
    this.sorted = new Float64Array(most);
    this.stamp = new Int32Array(addresses).fill(-1);
  }

  /** The windows of group rows [a, b); returns how many. */
  scan(a: number, b: number, windowMs: number): number {
    const { src, stamp } = this;
    const gt = this.groups.times!;
    const rows = this.groups.rows;
    let windows = 0;
    let k = a;
    while (k < b) {
      const t0 = gt[k];
      if (!Number.isFinite(t0)) break;
      const w = Math.floor(t0 / windowMs);
      const id = ++this.stampId;
      let distinct = 0;
      const s = k;
      while (k < b && Math.floor(gt[k] / windowMs) === w) {
        const sc = src[rows[k]];
        if (sc >= 0 && stamp[sc] !== id) {
          stamp[sc] = id;
          distinct++;
        }
        k++;
      }
      this.wStart[windows] = s;
      this.wCount[windows] = k - s;
      this.wSources[windows] = distinct;
      windows++;
    }
    return windows;
  }

  /** Median rows per window of the last scan (NaN without windows). */
  median(count: number): number {
    for (let w = 0; w < count; w++) this.sorted[w] = this.wCount[w];
    return count > 0 ? quantileSorted(sortNumbers(this.sorted.subarray(0, count)), 0.5) : NaN;
  }

  /** Distinct sources of group rows [from, to). */
  sources(from: number, to: number): number {
    const { src, stamp } = this;
    const rows = this.groups.rows;
    const id = ++this.stampId;
    let sources = 0;
    for (let x = from; x < to; x++) {
      const sc = src[rows[x]];
      if (sc >= 0 && stamp[sc] !== id) {
        stamp[sc] = id;
        sources++;
      }
    }
    return sources;
  }

  /** Stamps the sources of group rows [a, b) outside [from, to); returns the stamp. */
  markOutside(a: number, b: number, from: number, to: number): number {
    const { src, stamp } = this;
    const rows = this.groups.rows;
    const id = ++this.stampId;
    for (let x = a; x < b; x++) {
      if (x >= from && x < to) continue;
      const sc = src[rows[x]];
      if (sc >= 0) stamp[sc] = id;
    }
    return id;
  }

  isStamped(source: number, id: number): boolean {
    return this.stamp[source] === id;
  }
}

/** One flood: windows w..e of destination g (group rows [a, b)) become hits, with their reason. */
function recordFlood(ctx: Context, hits: Hits, opts: BehaviourOptions, windows: FloodWindows, g: number, a: number, b: number, w: number, e: number, median: number, threshold: number): void {
  const { wStart, wCount, wSources } = windows;
  const src = ctx.src!;
  const rows = windows.groups.rows;
  const windowMs = opts.floodWindowSeconds * 1000;
  const from = wStart[w];
  const to = wStart[e] + wCount[e];
  let flows = 0;
  for (let x = w; x <= e; x++) flows += wCount[x];
  // Distinct sources over the whole run (a bot sending in several windows counts once).
  const sources = windows.sources(from, to);
  let peak = 0;
  for (let x = w; x <= e; x++) peak = Math.max(peak, wCount[x]);
  const reason = hits.addReason(
    `${flows} flows from ${sources} sources converged on ${ctx.addresses[g]} within ${fmtDuration(((e - w + 1) * windowMs) / 1000)} (peak ${peak} per ${opts.floodWindowSeconds} s vs a usual ${median} for this host)`,
    'T1498',
  );
  const conf = Math.min(0.97, 0.7 + 0.05 * Math.log2(peak / threshold + 1) + 0.05 * Math.log2(wSources[w] / 10 + 1));
  // The host's usual clients (seen outside the flood) are not part of it.
  const usual = windows.markOutside(a, b, from, to);
  for (let x = from; x < to; x++) {
    const r = rows[x];
    if (src[r] < 0 || !windows.isStamped(src[r], usual)) hits.set(r, 'ddos', conf, reason, -1, g);
  }
}

/** Repeated short connections from one source to an authentication port of one host. */
export function detectBruteForce(ctx: Context, hits: Hits, order: Uint32Array | null, opts: BehaviourOptions): void {
  const { src, dst, dport } = ctx;
  const duration = ctx.metrics.duration;
  const packets = ctx.metrics.packets;
  if (!src || !dst || !dport) return;
  const n = ctx.n;
  const auth = new Uint8Array(65536);
  for (const p of AUTH_PORTS) auth[p] = 1;
  const attempt = new Uint8Array(n);
  let wholePorts = true;
  for (let i = 0; i < n; i++) {
    const p = dport[i];
    if (auth[p & 0xffff] === 1 && p >= 0 && p <= 65535 && src[i] >= 0 && dst[i] >= 0 && (!duration || duration[i] <= 30) && (!packets || packets[i] <= 60)) {
      attempt[i] = 1;
      if (p !== Math.floor(p)) wholePorts = false;
    }
  }
  // Groups of (source, destination, port) over the attempts alone: the context's pair-port codes,
  // unless a fractional port (22.5 is not port 22) needs a key of its own.
  const pc = pairCodes(ctx);
  const attempts = rowsWhere(attempt, null);
  const codes = codeBuffer(ctx);
  let count: number;
  if (wholePorts) count = restrictRows(pc.pairPort, pc.pairPortCount, attempts, codes).count;
  else {
    const index = new KeyIndex(1024);
    for (let x = 0; x < attempts.length; x++) codes[attempts[x]] = index.add(pc.pair[attempts[x]] * 65536 + dport[attempts[x]]);
    count = index.size;
  }
  const attemptOrder = order ? rowsWhere(attempt, order) : attempts;
  const attemptTimes = ctx.time ? Float64Array.from(attemptOrder, (i) => ctx.time![i]) : null;
  const groups = groupBy(codes, count, attemptOrder, attemptTimes);
  const gt = groups.times;
  const windowMs = opts.bruteWindowSeconds * 1000;
  const peak = new Int32Array(groups.count);
  for (let g = 0; g < groups.count; g++) {
    const a = groups.start[g];
    const b = groups.start[g + 1];
    if (!ctx.time) {
      peak[g] = b - a;
      continue;
    }
    const time = ctx.time;
    let lo = a;
    let best = 0;
    for (let k = a; k < b; k++) {
      const t = gt ? gt[k] : time[groups.rows[k]];
      while ((gt ? gt[lo] : time[groups.rows[lo]]) < t - windowMs) lo++;
      best = Math.max(best, k - lo + 1);
    }
    peak[g] = best;
  }
  const baseline = groups.count >= 3 ? quantileSorted(sortNumbers(Float64Array.from(peak)), 0.5) : 1;
  const threshold = Math.max(10, 5 * baseline);
  for (let g = 0; g < groups.count; g++) {
    if (peak[g] < threshold) continue;
    const a = groups.start[g];
    const b = groups.start[g + 1];
    const first = groups.rows[a];
    const reason = hits.addReason(
      `${b - a} short connections from ${ctx.addresses[src[first]]} to ${ctx.addresses[dst[first]]} port ${dport[first]} (an authentication service), up to ${peak[g]} within ${fmtDuration(opts.bruteWindowSeconds)}; a usual source makes ${baseline}`,
      'T1110',
    );
    const conf = Math.min(0.97, 0.75 + 0.05 * Math.log2(peak[g] / threshold + 1));
    for (let k = a; k < b; k++) hits.set(groups.rows[k], 'brute_force', conf, reason, src[first], dst[first]);
  }
}

/** One internal host sending a sustained share of large flows to one (external) address. */
export function detectExfiltration(ctx: Context, hits: Hits): void {
  const { src, dst } = ctx;
  const bytes = ctx.metrics.bytes;
  if (!src || !dst || !bytes) return;
  const n = ctx.n;
  const large = ctx.baseline.q('bytes', 0.95);
  const q99 = ctx.baseline.q('bytes', 0.99);
  // Address pairs: the context's pair codes as they are when every row has both addresses, else
  // restricted to the rows that have.
  const pc = pairCodes(ctx);
  let pair: { codes: Int32Array; count: number };
  let firstRow: Int32Array;
  if (pc.complete) {
    pair = { codes: pc.pair, count: pc.pairCount };
    firstRow = pc.pairFirst;
  } else {
    const addressed = new Uint8Array(n);
    for (let i = 0; i < n; i++) addressed[i] = src[i] >= 0 && dst[i] >= 0 ? 1 : 0;
    pair = restrictCodes(pc.pair, pc.pairCount, addressed, codeBuffer(ctx));
    firstRow = new Int32Array(pair.count).fill(-1);
    for (let i = 0; i < n; i++) if (pair.codes[i] >= 0 && firstRow[pair.codes[i]] < 0) firstRow[pair.codes[i]] = i;
  }
  const flows = new Int32Array(pair.count);
  const bigFlows = new Int32Array(pair.count);
  const bigBytes = new Float64Array(pair.count);
  for (let i = 0; i < n; i++) {
    const g = pair.codes[i];
    if (g < 0) continue;
    flows[g]++;
    if (bytes[i] > large) {
      bigFlows[g]++;
      bigBytes[g] += bytes[i];
    }
  }
  const flagged = new Uint8Array(pair.count);
  const reasonOf = new Int32Array(pair.count).fill(-1);
  const confOf = new Float32Array(pair.count);
  for (let g = 0; g < pair.count; g++) {
    const expected = 0.05 * flows[g];
    if (bigFlows[g] < 3 || bigFlows[g] < Math.max(0.5 * flows[g], expected + 4 * Math.sqrt(expected))) continue;
    if (!(bigBytes[g] >= 20 * q99)) continue;
    const i = firstRow[g];
    const outbound = isInternal(ctx, src[i]) !== false && isInternal(ctx, dst[i]) !== true;
    if (!outbound) continue;
    flagged[g] = 1;
    confOf[g] = Math.min(0.97, 0.75 + 0.05 * Math.log2(bigBytes[g] / (20 * q99) + 1));
    reasonOf[g] = hits.addReason(
      `${ctx.addresses[src[i]]} sent ${bigFlows[g]} large flows (${(bigBytes[g] / 1e6).toFixed(1)} MB, each above the 95th percentile of ${Math.round(large).toLocaleString('en-US')} bytes) to ${ctx.addresses[dst[i]]}: ${Math.round((100 * bigFlows[g]) / flows[g])} % of this pair's flows vs about 5 % usually`,
      'T1048',
    );
  }
  for (let i = 0; i < n; i++) {
    const g = pair.codes[i];
    if (g >= 0 && flagged[g] && bytes[i] > large) hits.set(i, 'data_exfiltration', confOf[g], reasonOf[g], src[i], dst[i]);
  }
}

/**
 * The intervals between a group's times (seconds, into `intervals`) and their coefficient of
 * variation; NaN when the mean interval is below 5 s (the 1-second timestamp resolution's reach).
 */
function intervalJitter(gt: Float64Array, a: number, b: number, intervals: Float64Array): number {
  const ni = b - a - 1;
  for (let k = a + 1; k < b; k++) intervals[k - a - 1] = (gt[k] - gt[k - 1]) / 1000;
  let mean = 0;
  for (let x = 0; x < ni; x++) mean += intervals[x];
  mean /= ni;
  if (mean < 5) return NaN;
  let v = 0;
  for (let x = 0; x < ni; x++) v += (intervals[x] - mean) ** 2;
  return Math.sqrt(v / ni) / mean;
}

/** Coefficient of variation of the bytes of rows[a..b). */
function sizeVariation(bytes: Float64Array, rows: Uint32Array, a: number, b: number): number {
  const m = b - a;
  let bm = 0;
  for (let k = a; k < b; k++) bm += bytes[rows[k]];
  bm /= m;
  let bv = 0;
  for (let k = a; k < b; k++) bv += (bytes[rows[k]] - bm) ** 2;
  return bm > 0 ? Math.sqrt(bv / m) / bm : 0;
}

/** A periodic group (its rows in time order, its intervals): the pattern, its reason and its hits. */
function recordBeacon(ctx: Context, hits: Hits, opts: BehaviourOptions, groupRows: Uint32Array, intervals: Float64Array, cv: number, sizeCv: number, sized: boolean): PeriodicPattern {
  const { src, dst, dport } = ctx;
  const m = groupRows.length;
  const median = quantileSorted(intervals.sort(), 0.5);
  const first = groupRows[0];
  const rows = Array.from(groupRows);
  const regularity = 1 - cv / opts.beaconMaxJitter;
  const conf = Math.min(0.97, 0.65 + 0.2 * regularity + (sizeCv < 0.3 ? 0.1 : 0) + 0.02 * Math.log2(m / opts.beaconMinConnections));
  const reason = hits.addReason(
    `${m} connections from ${ctx.addresses[src![first]]} to ${ctx.addresses[dst![first]]}${dport ? `:${dport[first]}` : ''} every ${fmtDuration(median)} with ${(cv * 100).toFixed(1)} % jitter${sized ? ` and ${sizeCv < 0.3 ? 'similar' : 'varied'} sizes (size variation ${(sizeCv * 100).toFixed(0)} %)` : ''}`,
    'T1071',
  );
  for (const r of rows) hits.set(r, 'beaconing', conf, reason, src![first], dst![first]);
  return {
    sourceIp: ctx.addresses[src![first]],
    destinationIp: ctx.addresses[dst![first]],
    destinationPort: dport ? dport[first] : null,
    connections: m,
    intervalSeconds: Math.round(median * 1000) / 1000,
    jitter: Math.round(cv * 10000) / 10000,
    rows,
  };
}

/**
 * Regular timing per source → destination (+ port): median interval and jitter (coefficient of
 * variation of intervals), as RITA scores beacons. Returns every periodic pattern; hits the rows.
 */
export function detectBeacons(ctx: Context, hits: Hits, order: Uint32Array, opts: BehaviourOptions): PeriodicPattern[] {
  const { src, dst, dport, time } = ctx;
  const bytes = ctx.metrics.bytes;
  if (!src || !dst || !time) return [];
  const n = ctx.n;
  // Groups of (source, destination, port & 0xffff) with a time: the context's pair-port codes, as
  // they are when every row has both addresses and a time (missing times sort last), else restricted.
  const pc = pairCodes(ctx);
  const times = orderedTimes(time, order);
  let pair: { codes: Int32Array; count: number };
  if (pc.complete && (n === 0 || Number.isFinite(times[n - 1]))) pair = { codes: pc.pairPort, count: pc.pairPortCount };
  else {
    const timed = new Uint8Array(n);
    for (let i = 0; i < n; i++) timed[i] = src[i] >= 0 && dst[i] >= 0 && Number.isFinite(time[i]) ? 1 : 0;
    pair = restrictCodes(pc.pairPort, pc.pairPortCount, timed, codeBuffer(ctx));
  }
  const groups: Groups = groupBy(pair.codes, pair.count, order, times);
  const gt = groups.times!;
  const out: PeriodicPattern[] = [];
  let scratch = new Float64Array(1024);
  for (let g = 0; g < groups.count; g++) {
    const a = groups.start[g];
    const b = groups.start[g + 1];
    const m = b - a;
    if (m < opts.beaconMinConnections) continue;
    if (scratch.length < m) scratch = new Float64Array(2 * m);
    const intervals = scratch.subarray(0, m - 1);
    const cv = intervalJitter(gt, a, b, intervals);
    if (Number.isNaN(cv) || cv > opts.beaconMaxJitter) continue;
    const sizeCv = bytes ? sizeVariation(bytes, groups.rows, a, b) : 0;
    out.push(recordBeacon(ctx, hits, opts, groups.rows.subarray(a, b), intervals, cv, sizeCv, bytes !== null));
  }
  out.sort((x, y) => x.jitter - y.jitter || y.connections - x.connections);
  return out;
}
