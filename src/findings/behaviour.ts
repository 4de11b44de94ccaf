/**
 * Behaviour detectors over ALL flows (not only the detector's outliers): scans, floods, brute force,
 * exfiltration and beaconing are often made of flows that each look normal. Every threshold is
 * relative to the data's own baseline (with an absolute floor). Hits are written into typed arrays.
 */
import type { AttackType, PeriodicPattern } from './types.ts';
import type { Context, Groups } from './context.ts';
import { codeBuffer, destinationGroups, groupBy, isIdentity, KeyIndex, orderedTimes, pairCodes, quantileOfCounts, quantileSorted, restrictCodes, restrictRows, sortNumbers } from './context.ts';
import { AUTH_PORTS, isInternal } from './rules.ts';
import { fmtDuration, fmtSize, groupThousands } from './format.ts';

export const TYPE_CODES: readonly AttackType[] = ['ddos', 'port_scan', 'brute_force', 'data_exfiltration', 'beaconing', 'protocol_misuse', 'untyped'];
export const code = (t: AttackType): number => TYPE_CODES.indexOf(t);

export interface HitReason {
  readonly text: string;
  readonly technique: string;
}

/**
 * Behaviour hits per row: the strongest one wins. actor/target are address codes (-1 = many / unknown).
 * The type is a column over all rows; the rest is kept for the rows with a hit only (a few percent).
 */
export class Hits {
  /** Type code per row (index into TYPE_CODES), -1 for none. */
  readonly type: Int8Array;
  readonly reasons: HitReason[] = [];
  count = 0;
  /** Per row: its hit's index in the columns below, -1 for none. */
  private readonly slot: Int32Array;
  private conf = new Float32Array(1024);
  private why = new Int32Array(1024);
  private by = new Int32Array(1024);
  private at = new Int32Array(1024);

  constructor(n: number) {
    this.type = new Int8Array(n).fill(-1);
    this.slot = new Int32Array(n).fill(-1);
  }

  /** The hit's confidence (as stored, a 32-bit float), its reason index, actor and target: rows with a hit only. */
  confidence(row: number): number {
    return this.conf[this.slot[row]];
  }

  reason(row: number): number {
    return this.why[this.slot[row]];
  }

  actor(row: number): number {
    return this.by[this.slot[row]];
  }

  target(row: number): number {
    return this.at[this.slot[row]];
  }

  addReason(text: string, technique: string): number {
    this.reasons.push({ text, technique });
    return this.reasons.length - 1;
  }

  set(row: number, type: AttackType, confidence: number, reason: number, actor: number, target: number): void {
    let s = this.slot[row];
    if (s >= 0 && this.conf[s] >= confidence) return;
    if (s < 0) {
      s = this.slot[row] = this.count++;
      if (s === this.conf.length) this.grow();
    }
    this.type[row] = code(type);
    this.conf[s] = confidence;
    this.why[s] = reason;
    this.by[s] = actor;
    this.at[s] = target;
  }

  private grow(): void {
    const cap = 2 * this.conf.length;
    const conf = new Float32Array(cap);
    conf.set(this.conf);
    this.conf = conf;
    const why = new Int32Array(cap);
    why.set(this.why);
    this.why = why;
    const by = new Int32Array(cap);
    by.set(this.by);
    this.by = by;
    const at = new Int32Array(cap);
    at.set(this.at);
    this.at = at;
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

/** Rows of one kind, in row order and in time order (the same array without a time order). */
interface CandidateRows {
  readonly rows: Uint32Array;
  readonly byTime: Uint32Array;
  /** Every row's destination port is a whole number (attempts: their port is then their group's). */
  readonly wholePorts: boolean;
}

const candidateCache = new WeakMap<Context, { order: Uint32Array | null; probes: CandidateRows | null; attempts: CandidateRows | null }>();

/**
 * The scan and brute-force candidates, found in one pass over the table: probes (at most 3 packets,
 * at most 400 bytes, both addresses) and login attempts (an authentication port, both addresses, at
 * most 30 s and 60 packets). Null where the columns they need are missing. Made once per context.
 */
function candidates(ctx: Context, order: Uint32Array | null): { probes: CandidateRows | null; attempts: CandidateRows | null } {
  const cached = candidateCache.get(ctx);
  if (cached && cached.order === order) return cached;
  const { n, src, dst, dport } = ctx;
  const packets = ctx.metrics.packets;
  const bytes = ctx.metrics.bytes;
  const duration = ctx.metrics.duration;
  let result: { order: Uint32Array | null; probes: CandidateRows | null; attempts: CandidateRows | null } = { order, probes: null, attempts: null };
  if (src && dst && dport) {
    const auth = new Uint8Array(65536);
    for (const p of AUTH_PORTS) auth[p] = 1;
    // Bit 1: probe; bit 2: attempt.
    const kind = new Uint8Array(n);
    let probes = 0;
    let attempts = 0;
    let wholePorts = true;
    for (let i = 0; i < n; i++) {
      if (src[i] < 0 || dst[i] < 0) continue;
      let k = 0;
      if (packets && packets[i] <= 3 && (!bytes || bytes[i] <= 400)) {
        k = 1;
        probes++;
      }
      const p = dport[i];
      if (auth[p & 0xffff] === 1 && p >= 0 && p <= 65535 && (!duration || duration[i] <= 30) && (!packets || packets[i] <= 60)) {
        k |= 2;
        attempts++;
        if (p !== Math.floor(p)) wholePorts = false;
      }
      kind[i] = k;
    }
    const probeRows = new Uint32Array(probes);
    const attemptRows = new Uint32Array(attempts);
    splitRows(kind, null, probeRows, attemptRows);
    let probeOrder = probeRows;
    let attemptOrder = attemptRows;
    if (order && !isIdentity(order)) {
      probeOrder = new Uint32Array(probes);
      attemptOrder = new Uint32Array(attempts);
      splitRows(kind, order, probeOrder, attemptOrder);
    }
    result = {
      order,
      probes: packets ? { rows: probeRows, byTime: probeOrder, wholePorts: true } : null,
      attempts: { rows: attemptRows, byTime: attemptOrder, wholePorts },
    };
  }
  candidateCache.set(ctx, result);
  return result;
}

/** Drops the context's candidate lists (the scan and brute-force detectors are done with them). */
export function releaseCandidates(ctx: Context): void {
  candidateCache.delete(ctx);
}

/** The rows with bit 1 of `kind` into `ones`, with bit 2 into `twos`, in `order`'s order (row order when null). */
function splitRows(kind: Uint8Array, order: Uint32Array | null, ones: Uint32Array, twos: Uint32Array): void {
  let a = 0;
  let b = 0;
  const n = kind.length;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k] : k;
    const c = kind[i];
    if (c === 0) continue;
    if ((c & 1) !== 0) ones[a++] = i;
    if ((c & 2) !== 0) twos[b++] = i;
  }
}

/** Small-flow probes per source: vertical (many ports on one host) and horizontal (one port, many hosts) scans. */
export function detectScans(ctx: Context, hits: Hits, order: Uint32Array | null): void {
  const { src, dst, dport } = ctx;
  const packets = ctx.metrics.packets;
  if (!src || !dst || !dport || !packets) return;
  const nAddr = ctx.addresses.length;
  // The probes (a fifth of the rows or fewer), in row order and in time order: both scans read only these.
  const { rows: probeRows, byTime: probeOrder } = candidates(ctx, order).probes!;

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
    const typical = quantileOfCounts(distinct, 0.5);
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
  if (!src || !dst || !dport) return;
  const { rows: attempts, byTime: attemptOrder, wholePorts } = candidates(ctx, order).attempts!;
  // Groups of (source, destination, port) over the attempts alone: the context's pair-port codes,
  // unless a fractional port (22.5 is not port 22) needs a key of its own.
  const pc = pairCodes(ctx);
  const codes = codeBuffer(ctx);
  let count: number;
  if (wholePorts) count = restrictRows(pc.pairPort, pc.pairPortCount, attempts, codes).count;
  else {
    const index = new KeyIndex(1024);
    for (let x = 0; x < attempts.length; x++) codes[attempts[x]] = index.add(pc.pair[attempts[x]] * 65536 + dport[attempts[x]]);
    count = index.size;
  }
  let attemptTimes: Float64Array | null = null;
  if (ctx.time) {
    attemptTimes = new Float64Array(attemptOrder.length);
    for (let x = 0; x < attemptOrder.length; x++) attemptTimes[x] = ctx.time[attemptOrder[x]];
  }
  const groups = groupBy(codes, count, attemptOrder, attemptTimes);
  // Most attempts within one window, per group (all of them without times); a group's times ascend.
  const gt = groups.times;
  const windowMs = opts.bruteWindowSeconds * 1000;
  const peak = new Int32Array(groups.count);
  for (let g = 0; g < groups.count; g++) {
    const a = groups.start[g];
    const b = groups.start[g + 1];
    if (!gt) {
      peak[g] = b - a;
      continue;
    }
    let lo = a;
    let best = 0;
    for (let k = a; k < b; k++) {
      while (gt[lo] < gt[k] - windowMs) lo++;
      best = Math.max(best, k - lo + 1);
    }
    peak[g] = best;
  }
  const baseline = groups.count >= 3 ? quantileOfCounts(peak, 0.5) : 1;
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
  const big = largeFlows(pair.codes, bytes, large, flows, bigFlows, bigBytes);
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
      `${ctx.addresses[src[i]]} sent ${bigFlows[g]} large flows (${fmtSize(bigBytes[g])}, each above the 95th percentile of ${groupThousands(Math.round(large))} bytes) to ${ctx.addresses[dst[i]]}: ${Math.round((100 * bigFlows[g]) / flows[g])} % of this pair's flows vs about 5 % usually`,
      'T1048',
    );
  }
  for (let x = 0; x < big.length; x++) {
    const i = big[x];
    const g = pair.codes[i];
    if (flagged[g]) hits.set(i, 'data_exfiltration', confOf[g], reasonOf[g], src[i], dst[i]);
  }
}

/**
 * Flows per pair, and the large ones (bytes above `large`): their count and bytes per pair, and
 * their rows in row order (the few a sending pair can be flagged for).
 */
function largeFlows(codes: Int32Array, bytes: Float64Array, large: number, flows: Int32Array, bigFlows: Int32Array, bigBytes: Float64Array): Int32Array {
  let rows = new Int32Array(1024);
  let count = 0;
  for (let i = 0; i < codes.length; i++) {
    const g = codes[i];
    if (g < 0) continue;
    flows[g]++;
    if (bytes[i] > large) {
      bigFlows[g]++;
      bigBytes[g] += bytes[i];
      if (count === rows.length) {
        const grown = new Int32Array(2 * count);
        grown.set(rows);
        rows = grown;
      }
      rows[count++] = i;
    }
  }
  return rows.subarray(0, count);
}

/**
 * Per group, over the rows in time order (k < finite): connections, and the sum of the intervals
 * between consecutive times in seconds (into `sum`); `last` is scratch.
 */
function intervalSums(codes: Int32Array, order: Uint32Array, times: Float64Array, finite: number, connections: Int32Array, last: Float64Array, sum: Float64Array): void {
  for (let k = 0; k < finite; k++) {
    const g = codes[order[k]];
    if (g < 0) continue;
    const t = times[k];
    if (connections[g]++ > 0) sum[g] += (t - last[g]) / 1000;
    last[g] = t;
  }
}

/**
 * Per candidate group, the sum of squared differences of its intervals from their mean (into
 * `spread`, replacing the sums); `last` is scratch.
 */
function intervalSpread(codes: Int32Array, order: Uint32Array, times: Float64Array, finite: number, candidate: Uint8Array, mean: Float64Array, last: Float64Array, spread: Float64Array): void {
  last.fill(NaN);
  spread.fill(0);
  for (let k = 0; k < finite; k++) {
    const g = codes[order[k]];
    if (g < 0 || candidate[g] === 0) continue;
    const t = times[k];
    const previous = last[g];
    if (previous === previous) spread[g] += ((t - previous) / 1000 - mean[g]) ** 2;
    last[g] = t;
  }
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
  // The group statistics in passes over the rows in time order (no grouped copy of the rows): the
  // connections and the intervals' sum, then their spread about the mean for the groups that can
  // still be beacons, then the rows of the beacons. Per group the sums run in time order, as they
  // would over its rows.
  const { codes, count: groupCount } = pair;
  let finite = n;
  while (finite > 0 && !Number.isFinite(times[finite - 1])) finite--;
  const connections = new Int32Array(groupCount);
  const last = new Float64Array(groupCount);
  const spread = new Float64Array(groupCount);
  intervalSums(codes, order, times, finite, connections, last, spread);
  const mean = new Float64Array(groupCount);
  const candidate = new Uint8Array(groupCount);
  for (let g = 0; g < groupCount; g++) {
    const m = connections[g];
    if (m < opts.beaconMinConnections) continue;
    mean[g] = spread[g] / (m - 1);
    if (mean[g] < 5) continue; // below the 1-second timestamp resolution's reach
    candidate[g] = 1;
  }
  intervalSpread(codes, order, times, finite, candidate, mean, last, spread);
  // The beacons, in group order, and their rows in time order.
  const beacons: number[] = [];
  const jitter = new Float64Array(groupCount);
  const start = new Int32Array(groupCount + 1).fill(-1);
  let total = 0;
  for (let g = 0; g < groupCount; g++) {
    if (candidate[g] === 0) continue;
    const ni = connections[g] - 1;
    const cv = Math.sqrt(spread[g] / ni) / mean[g];
    if (cv > opts.beaconMaxJitter) continue;
    jitter[g] = cv;
    beacons.push(g);
    start[g] = total;
    total += connections[g];
  }
  const rows = new Uint32Array(total);
  const rowTimes = new Float64Array(total);
  if (beacons.length > 0) {
    const fill = start.slice();
    for (let k = 0; k < finite; k++) {
      const g = codes[order[k]];
      if (g < 0 || fill[g] < 0) continue;
      rows[fill[g]] = order[k];
      rowTimes[fill[g]++] = times[k];
    }
  }
  const out: PeriodicPattern[] = [];
  for (const g of beacons) {
    const a = start[g];
    const b = a + connections[g];
    const intervals = new Float64Array(b - a - 1);
    for (let k = a + 1; k < b; k++) intervals[k - a - 1] = (rowTimes[k] - rowTimes[k - 1]) / 1000;
    const sizeCv = bytes ? sizeVariation(bytes, rows, a, b) : 0;
    out.push(recordBeacon(ctx, hits, opts, rows.subarray(a, b), intervals, jitter[g], sizeCv, bytes !== null));
  }
  out.sort((x, y) => x.jitter - y.jitter || y.connections - x.connections);
  return out;
}
