/**
 * The columns findings need, resolved once from a FlowTable: typed arrays (derived where a column is
 * missing but computable), addresses unified into one code space (source and destination columns have
 * separate dictionaries), quantile baselines from an evenly spaced sample, and grouping helpers; and
 * which side of the network an address is on (addressKind).
 */
import { BlockList, isIP, isIPv6 } from 'node:net';
import { categoryColumn, column, numericColumn } from '../ingest/index.ts';
import { CANONICAL } from '../ingest/types.ts';
import { quantileSorted as numpyQuantile, selectQuantiles } from '../detection/math.ts';
import type { CategoryColumn, FlowTable } from '../ingest/types.ts';

export type Metric = 'bytes' | 'packets' | 'duration' | 'bpp' | 'pps' | 'retrans';

export interface Baseline {
  /** Quantile q in 0..1 of a metric (NaN when the metric is absent). */
  q(metric: Metric, q: number): number;
}

export interface Context {
  readonly n: number;
  readonly metrics: Readonly<Record<Metric, Float64Array | null>>;
  readonly dport: Float64Array | null;
  readonly sport: Float64Array | null;
  /** Protocol name per row via `protocolNames[protocolCode[i]]` (code -1 = missing). */
  readonly protocolCode: Int32Array | null;
  readonly protocolNames: readonly string[];
  /** Unified address codes (into `addresses`), -1 when missing. */
  readonly src: Int32Array | null;
  readonly dst: Int32Array | null;
  readonly addresses: readonly string[];
  /** Epoch ms, NaN when missing; null when the table has no usable time column. */
  readonly time: Float64Array | null;
  readonly baseline: Baseline;
  /** Share of all rows per destination port (ports 0..65535). */
  readonly portShare: Float64Array | null;
}

// Columns are looked up by their exact name, as ingest and the pipeline do (the parser trims header
// names): a column findings read is one the anomaly table shows, and the other way round.
function numeric(table: FlowTable, name: string): Float64Array | null {
  return numericColumn(table, name)?.values ?? null;
}

function category(table: FlowTable, name: string): CategoryColumn | null {
  return categoryColumn(table, name) ?? null;
}

const SAMPLE = 65_536;

/** Every ceil(n / SAMPLE)-th value or so (evenly spaced over the rows), the finite ones. */
function sampleOf(values: Float64Array): Float64Array {
  const n = values.length;
  const step = Math.max(1, n / SAMPLE);
  const out = new Float64Array(Math.ceil(n / step) + 1);
  let m = 0;
  for (let x = 0; x < n; x += step) {
    const v = values[Math.floor(x)];
    if (Number.isFinite(v)) out[m++] = v;
  }
  return out.subarray(0, m);
}

/** From this length, sortNumbers radix-sorts; below it the native sort is as fast. */
const RADIX_SORT_MIN = 4096;
/** The radix sort reads a number's two 32-bit words low first (every platform Node runs on). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Radix keys of doubles, [low word, high word] per value, ordered as the values (negatives: all
 * bits inverted; positives: the sign bit set), or in reverse when `descending` (every bit flipped).
 * Little-endian only (callers check LITTLE_ENDIAN).
 */
function radixKeys(values: Float64Array, descending: boolean): Uint32Array<ArrayBuffer> {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const keys = new Uint32Array(2 * n);
  const flip = descending ? 0xffffffff : 0;
  for (let i = 0; i < n; i++) {
    const lo = bits[2 * i];
    const hi = bits[2 * i + 1];
    if (hi >>> 31) {
      keys[2 * i] = ~lo ^ flip;
      keys[2 * i + 1] = ~hi ^ flip;
    } else {
      keys[2 * i] = lo ^ flip;
      keys[2 * i + 1] = (hi | 0x80000000) ^ flip;
    }
  }
  return keys;
}

/**
 * One pass of the LSD radix sorts below, over the 16-bit digit `pass` (0 = lowest) of n keys made
 * by radixKeys: `count[d]` becomes the first output position of digit d. False when every key has
 * the same digit (the pass would leave the order as it is, so it is skipped), or n is 0.
 */
function digitStarts(keys: Uint32Array, n: number, pass: number, count: Int32Array): boolean {
  const word = pass >> 1;
  const shift = (pass & 1) * 16;
  count.fill(0);
  for (let i = 0; i < n; i++) count[(keys[2 * i + word] >>> shift) & 0xffff]++;
  if (n === 0 || count[(keys[word] >>> shift) & 0xffff] === n) return false;
  let sum = 0;
  for (let d = 0; d < 65536; d++) {
    const c = count[d];
    count[d] = sum;
    sum += c;
  }
  return true;
}

/**
 * `values.sort()` (ascending, -0 before +0) for values without NaN, in place: an LSD radix sort on
 * the numbers' bits made order-preserving (sign flipped, negatives' bits inverted), 16 bits a pass,
 * skipping passes where every value shares the digit. Several times faster than the native sort on
 * tens of thousands of numbers.
 */
export function sortNumbers(values: Float64Array): Float64Array {
  const n = values.length;
  if (n < RADIX_SORT_MIN || !LITTLE_ENDIAN) return values.sort();
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  let keys = radixKeys(values, false);
  let other = new Uint32Array(2 * n);
  const count = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    if (!digitStarts(keys, n, pass, count)) continue;
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    for (let i = 0; i < n; i++) {
      const at = 2 * count[(keys[2 * i + word] >>> shift) & 0xffff]++;
      other[at] = keys[2 * i];
      other[at + 1] = keys[2 * i + 1];
    }
    const t = keys;
    keys = other;
    other = t;
  }
  for (let i = 0; i < n; i++) {
    const lo = keys[2 * i];
    const hi = keys[2 * i + 1];
    if (hi >>> 31) {
      bits[2 * i] = lo;
      bits[2 * i + 1] = hi & 0x7fffffff;
    } else {
      bits[2 * i] = ~lo >>> 0;
      bits[2 * i + 1] = ~hi >>> 0;
    }
  }
  return values;
}

/**
 * quantileSorted(sorted copy of `counts`, q) for counts that are non-negative integers, without the
 * sort: a histogram finds the two order statistics the quantile reads, about twice as fast as
 * selectQuantiles on such counts (falls back to sorting when the largest count is far above the
 * number of counts).
 */
export function quantileOfCounts(counts: Int32Array, q: number): number {
  const n = counts.length;
  if (n === 0) return NaN;
  let max = 0;
  for (let i = 0; i < n; i++) if (counts[i] > max) max = counts[i];
  if (max > 4 * n + 65536) return quantileSorted(sortNumbers(Float64Array.from(counts)), q);
  const histogram = new Int32Array(max + 1);
  for (let i = 0; i < n; i++) histogram[counts[i]]++;
  const lo = Math.floor((n - 1) * Math.min(1, Math.max(0, q)));
  const hi = Math.min(n - 1, lo + 1);
  // A sparse stand-in for the sorted array: quantileSorted reads these two ranks only.
  const sorted: { length: number; [rank: number]: number } = { length: n };
  let seen = 0;
  for (let v = 0; v <= max && seen <= hi; v++) {
    const next = seen + histogram[v];
    if (seen <= lo && lo < next) sorted[lo] = v;
    if (seen <= hi && hi < next) sorted[hi] = v;
    seen = next;
  }
  return quantileSorted(sorted, q);
}

/**
 * The detector's numpy-exact linear quantile (detection/math.ts) of ascending values, with q clamped
 * to [0, 1]: a typing rule may name any quantile.
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  return numpyQuantile(sorted, Math.min(1, Math.max(0, q)));
}

export function buildContext(table: FlowTable): Context {
  const n = table.rowCount;
  const bytes = numeric(table, CANONICAL.bytes);
  const packets = numeric(table, CANONICAL.packets);
  const duration = numeric(table, CANONICAL.duration);
  let bpp = numeric(table, CANONICAL.bytesPerPacket);
  let pps = numeric(table, CANONICAL.packetsPerSecond);
  if (!bpp && bytes && packets) {
    bpp = new Float64Array(n);
    for (let i = 0; i < n; i++) bpp[i] = packets[i] > 0 ? bytes[i] / packets[i] : NaN;
  }
  if (!pps && packets && duration) {
    pps = new Float64Array(n);
    for (let i = 0; i < n; i++) pps[i] = packets[i] / Math.max(duration[i], 0.001);
  }
  const metrics: Record<Metric, Float64Array | null> = {
    bytes,
    packets,
    duration,
    bpp,
    pps,
    retrans: numeric(table, CANONICAL.retransmissionRate),
  };

  // Quantiles of an evenly spaced sample, each from the two order statistics it reads (a selection,
  // not a sort of the sample), once per metric and q; q is clamped to [0, 1] (a rule may name any).
  const samples = new Map<Metric, Float64Array>();
  const known = new Map<string, number>();
  const baseline: Baseline = {
    q(metric, q) {
      const values = metrics[metric];
      if (!values) return NaN;
      const key = `${metric} ${q}`;
      let v = known.get(key);
      if (v === undefined) {
        let s = samples.get(metric);
        if (!s) samples.set(metric, (s = sampleOf(values)));
        v = selectQuantiles(s, [Math.min(1, Math.max(0, q))]).quantiles[0];
        known.set(key, v);
      }
      return v;
    },
  };

  // Addresses: unify source and destination dictionaries into one code space.
  const srcCol = category(table, CANONICAL.sourceIp);
  const dstCol = category(table, CANONICAL.destinationIp);
  let src: Int32Array | null = null;
  let dst: Int32Array | null = null;
  let addresses: string[] = [];
  if (srcCol && dstCol) {
    addresses = [...srcCol.dictionary];
    const index = new Map<string, number>();
    addresses.forEach((a, k) => index.set(a, k));
    const remap = new Int32Array(dstCol.dictionary.length);
    dstCol.dictionary.forEach((a, k) => {
      let code = index.get(a);
      if (code === undefined) {
        code = addresses.length;
        addresses.push(a);
        index.set(a, code);
      }
      remap[k] = code;
    });
    src = srcCol.codes;
    dst = new Int32Array(n);
    const dc = dstCol.codes;
    for (let i = 0; i < n; i++) dst[i] = dc[i] < 0 ? -1 : remap[dc[i]];
  }

  const protoCol = category(table, CANONICAL.protocol);
  const timeCol = column(table, CANONICAL.timestamp) ?? table.columns.find((c) => c.kind === 'time');
  let time: Float64Array | null = null;
  if (timeCol && timeCol.kind === 'time' && timeCol.missing < n) time = timeCol.values;

  const dport = numeric(table, CANONICAL.destinationPort);
  let portShare: Float64Array | null = null;
  if (dport) {
    portShare = new Float64Array(65536);
    for (let i = 0; i < n; i++) {
      const p = dport[i];
      if (p >= 0 && p <= 65535) portShare[p | 0]++;
    }
    for (let p = 0; p < 65536; p++) portShare[p] /= Math.max(1, n);
  }

  return {
    n,
    metrics,
    dport,
    sport: numeric(table, CANONICAL.sourcePort),
    protocolCode: protoCol ? protoCol.codes : null,
    protocolNames: protoCol ? protoCol.dictionary.map((p) => p.trim().toUpperCase()) : [],
    src,
    dst,
    addresses,
    time,
    baseline,
    portShare,
  };
}

/**
 * Indices 0..n-1 ordered by value, highest first (0 before -0), equal values by index (values without NaN): a stable
 * LSD radix sort on the values' bits made order-preserving and inverted, 16 bits a pass, skipping
 * passes where every value shares the digit.
 */
export function orderByValueDesc(values: Float64Array): Uint32Array {
  const n = values.length;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!LITTLE_ENDIAN) return order.sort((a, b) => values[b] - values[a] || a - b);
  const keys = radixKeys(values, true);
  let other = new Uint32Array(n);
  const count = new Int32Array(65536);
  for (let pass = 0; pass < 4; pass++) {
    if (!digitStarts(keys, n, pass, count)) continue;
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    for (let x = 0; x < n; x++) {
      const i = order[x];
      other[count[(keys[2 * i + word] >>> shift) & 0xffff]++] = i;
    }
    const t = order;
    order = other;
    other = t;
  }
  return order;
}

/** Row indices ordered by time (rows without a time last, in row order); stable. */
export function timeOrder(time: Float64Array): Uint32Array {
  const n = time.length;
  const order = new Uint32Array(n);
  const { min, max, seconds, integral, ordered } = timeRange(time);
  if (ordered) {
    // Already in time order (as most exports are written): the identity, marked as such.
    for (let i = 0; i < n; i++) order[i] = i;
    identityOrders.add(order);
    return order;
  }
  const span = Number.isFinite(min) ? Math.ceil(max - min) + 2 : 1;
  if (span <= 2 ** 53 && integral && min !== -Infinity) {
    // Whole seconds over a span of at most about n seconds: one stable counting sort of
    // (t - min) / 1000, missing times in the last bucket.
    const missing = (span - 2) / 1000 + 1;
    if (seconds && missing < n + 65536) {
      orderBySecond(time, min, missing, order);
      return order;
    }
    // Whole milliseconds: the same order by a stable LSD radix sort of t - min.
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = time[i];
      keys[i] = Number.isFinite(t) ? t - min : span - 1;
    }
    radixOrder(keys, span, order);
  } else {
    // Fractional milliseconds (Zeek-style epoch times) or a span beyond 2^53 ms: a stable comparator
    // sort, missing times last (the radix sort needs whole keys below 2^53).
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = Number.isFinite(time[i]) ? time[i] : Infinity;
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => keys[a] - keys[b] || a - b);
  }
  return order;
}

/**
 * The times' range, whether every time is a whole second (a multiple of 1000 ms), whether every one
 * is whole, and whether the rows are in time order already (times never decrease, missing times
 * only after the last one).
 */
function timeRange(time: Float64Array): { min: number; max: number; seconds: boolean; integral: boolean; ordered: boolean } {
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  let seconds = true;
  let ordered = true;
  let missing = false;
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    if (Number.isFinite(t)) {
      if (missing || t < max) ordered = false;
    } else missing = true;
    if (t < min) min = t;
    if (t > max) max = t;
    if (seconds && Math.floor(t / 1000) * 1000 !== t && !Number.isNaN(t)) {
      seconds = false;
      if (t !== Math.floor(t)) integral = false;
    } else if (!seconds && integral && t !== Math.floor(t) && !Number.isNaN(t)) integral = false;
  }
  return { min, max, seconds, integral, ordered };
}

/** Time orders that are the identity (the rows were in time order): callers may read rows directly. */
const identityOrders = new WeakSet<Uint32Array>();

/** Whether a time order from timeOrder is the identity. */
export function isIdentity(order: Uint32Array): boolean {
  return identityOrders.has(order);
}

/** Stable counting sort of the rows by whole second since `min` (rows without a time in bucket `missing`) into `order`. */
function orderBySecond(time: Float64Array, min: number, missing: number, order: Uint32Array): void {
  const n = time.length;
  const second = new Int32Array(n);
  const start = new Int32Array(missing + 2);
  for (let i = 0; i < n; i++) {
    const t = time[i];
    const b = Number.isFinite(t) ? (t - min) / 1000 : missing;
    second[i] = b;
    start[b + 1]++;
  }
  for (let b = 0; b <= missing; b++) start[b + 1] += start[b];
  for (let i = 0; i < n; i++) order[start[second[i]]++] = i;
}

/**
 * Stable sort of row indices by non-negative integer keys below `limit` (at most 2^53), written into
 * `out`: LSD radix with 16-bit digits, as many passes as `limit` needs.
 */
function radixOrder(keys: Float64Array, limit: number, out: Uint32Array): void {
  const n = keys.length;
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    lo[i] = k % 4294967296;
    hi[i] = Math.floor(k / 4294967296);
  }
  let passes = 1;
  while (passes < 4 && limit > 2 ** (16 * passes)) passes++;
  let src: Uint32Array = out;
  let dst: Uint32Array = new Uint32Array(n);
  for (let i = 0; i < n; i++) src[i] = i;
  const count = new Int32Array(65537);
  for (let p = 0; p < passes; p++) {
    const word = p < 2 ? lo : hi;
    const shift = p % 2 === 1 ? 16 : 0;
    count.fill(0);
    for (let i = 0; i < n; i++) count[((word[i] >>> shift) & 0xffff) + 1]++;
    for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (let k = 0; k < n; k++) {
      const i = src[k];
      dst[count[(word[i] >>> shift) & 0xffff]++] = i;
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== out) out.set(src);
}

/** Compressed groups: rows of group g are `rows[start[g] .. start[g+1])`, in `order`'s order. */
export interface Groups {
  readonly count: number;
  readonly start: Int32Array;
  readonly rows: Uint32Array;
  /** `time[rows[k]]` when groupBy was given the times in `order`'s order (sequential reads later). */
  readonly times: Float64Array | null;
}

/**
 * Stable counting sort of rows by group code (codes < 0 are left out). `order` lists the rows to
 * group in the order wanted within a group: every row (e.g. the time order), or a detector's own rows
 * (e.g. its candidates in time order), whose codes alone are read; null for all rows in row order. `orderedTime[k]` = the
 * time of `order[k]` (see orderedTimes) also gathers each group's times next to its rows.
 */
export function groupBy(codes: Int32Array, groupCount: number, order: Uint32Array | null, orderedTime: Float64Array | null = null): Groups {
  const m = order ? order.length : codes.length;
  const start = new Int32Array(groupCount + 1);
  if (order && m < codes.length) {
    for (let k = 0; k < m; k++) {
      const g = codes[order[k]];
      if (g >= 0) start[g + 1]++;
    }
  } else {
    for (let i = 0; i < codes.length; i++) if (codes[i] >= 0) start[codes[i] + 1]++;
  }
  for (let g = 0; g < groupCount; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groupCount);
  const rows = new Uint32Array(start[groupCount]);
  const times = orderedTime ? new Float64Array(start[groupCount]) : null;
  for (let k = 0; k < m; k++) {
    const i = order ? order[k] : k;
    const g = codes[i];
    if (g >= 0) {
      const p = fill[g]++;
      rows[p] = i;
      if (times) times[p] = orderedTime![k];
    }
  }
  return { count: groupCount, start, rows, times };
}

const destinationGroupCache = new WeakMap<Context, { order: Uint32Array; groups: Groups }>();

/** Rows grouped by destination address in time order, with their times (the flood detector's and the rate probe's view); cached per context. */
export function destinationGroups(ctx: Context, order: Uint32Array): Groups {
  const cached = destinationGroupCache.get(ctx);
  if (cached && cached.order === order) return cached.groups;
  const groups = groupBy(ctx.dst!, ctx.addresses.length, identityOrders.has(order) ? null : order, orderedTimes(ctx.time!, order));
  destinationGroupCache.set(ctx, { order, groups });
  return groups;
}

const orderedTimeCache = new WeakMap<Uint32Array, Float64Array>();

/** `time[order[k]]` for every k: the times in time order, gathered once per order. */
export function orderedTimes(time: Float64Array, order: Uint32Array): Float64Array {
  if (identityOrders.has(order)) return time; // read only, as every other result here
  let t = orderedTimeCache.get(order);
  if (!t) {
    t = new Float64Array(order.length);
    for (let k = 0; k < order.length; k++) t[k] = time[order[k]];
    orderedTimeCache.set(order, t);
  }
  return t;
}

/** Dense codes in order of first appearance for a numeric key per row (e.g. a pair of address codes); -1 where the key is NaN. `index` maps a key to its code. */
export function denseCodesOf(keys: Float64Array): { codes: Int32Array; count: number; index: KeyIndex } {
  const n = keys.length;
  const index = new KeyIndex(1024);
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    codes[i] = k === k ? index.add(k) : -1;
  }
  return { codes, count: index.size, index };
}

/**
 * The (source, destination) address pair and the (pair, destination port) of every row as dense
 * codes in order of first appearance, a missing address (-1) being a value of its own and the port
 * taken as `dport & 0xffff` (0 without a port column). Made once per analysis: the behaviour
 * detectors and the repeat counts restrict them to their rows (`restrictCodes`) instead of hashing
 * keys of their own, and no key passes 2^53 however many addresses there are.
 */
export interface PairCodes {
  readonly pair: Int32Array;
  readonly pairCount: number;
  /** Pair key `(src + 1) * (addresses + 1) + dst + 1` → pair code. */
  readonly pairIndex: KeyIndex;
  readonly pairPort: Int32Array;
  readonly pairPortCount: number;
  /** Rows per pair-port code. */
  readonly pairPortRows: Int32Array;
  /** The first row of each pair code. */
  readonly pairFirst: Int32Array;
  /** True when every row has both addresses: then no code stands for a pair with a missing address. */
  readonly complete: boolean;
}

const pairCodesCache = new WeakMap<Context, PairCodes>();

/** The pair codes of a context with both address columns (see PairCodes). */
export function pairCodes(ctx: Pick<Context, 'n' | 'src' | 'dst' | 'dport' | 'addresses'>): PairCodes {
  let p = pairCodesCache.get(ctx as Context);
  if (p) return p;
  const { n, dport } = ctx;
  const src = ctx.src!;
  const dst = ctx.dst!;
  const width = ctx.addresses.length + 1;
  const pairIndex = new KeyIndex(1024);
  const portIndex = new KeyIndex(1024);
  const pair = new Int32Array(n);
  const pairPort = new Int32Array(n);
  const first: number[] = [];
  let rows = new Int32Array(1024);
  let complete = true;
  for (let i = 0; i < n; i++) {
    const c = pairIndex.add((src[i] + 1) * width + dst[i] + 1);
    pair[i] = c;
    if (c === first.length) first.push(i);
    if (src[i] < 0 || dst[i] < 0) complete = false;
    const pp = portIndex.add(c * 65536 + (dport ? dport[i] & 0xffff : 0));
    pairPort[i] = pp;
    if (pp === rows.length) {
      const grown = new Int32Array(2 * rows.length);
      grown.set(rows);
      rows = grown;
    }
    rows[pp]++;
  }
  p = { pair, pairCount: pairIndex.size, pairIndex, pairPort, pairPortCount: portIndex.size, pairPortRows: rows.subarray(0, portIndex.size), pairFirst: Int32Array.from(first), complete };
  pairCodesCache.set(ctx as Context, p);
  return p;
}

/**
 * `codes` (dense, below `count`) kept where `keep[i]` is 1 and renumbered 0, 1, ... in order of first
 * appearance among the kept rows, -1 elsewhere: what denseCodesOf gives for the kept rows' keys.
 * Written into `out`; `remap[c]` is the new code of old code c (-1 when no kept row has it).
 */
export function restrictCodes(codes: Int32Array, count: number, keep: Uint8Array, out: Int32Array): { codes: Int32Array; count: number; remap: Int32Array } {
  const remap = new Int32Array(count).fill(-1);
  let next = 0;
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i];
    if (keep[i] === 0 || c < 0) {
      out[i] = -1;
      continue;
    }
    let r = remap[c];
    if (r < 0) r = remap[c] = next++;
    out[i] = r;
  }
  return { codes: out, count: next, remap };
}

/**
 * restrictCodes for the rows listed (in row order): writes their renumbered codes into `out` at
 * those rows only (other entries of `out` are left as they were) and returns the count and remap.
 */
export function restrictRows(codes: Int32Array, count: number, rows: Uint32Array, out: Int32Array): { count: number; remap: Int32Array } {
  const remap = new Int32Array(count).fill(-1);
  let next = 0;
  for (let x = 0; x < rows.length; x++) {
    const i = rows[x];
    const c = codes[i];
    if (c < 0) {
      out[i] = -1;
      continue;
    }
    let r = remap[c];
    if (r < 0) r = remap[c] = next++;
    out[i] = r;
  }
  return { count: next, remap };
}

const codeBuffers = new WeakMap<Context, Int32Array>();

/** One reusable n-row code buffer per context, for restricted codes (used by one detector at a time). */
export function codeBuffer(ctx: Context): Int32Array {
  let b = codeBuffers.get(ctx);
  if (!b) {
    b = new Int32Array(ctx.n);
    codeBuffers.set(ctx, b);
  }
  return b;
}

/**
 * Drops what only the behaviour detectors read from the context's caches (its code buffer and pair
 * codes: the repeat counts keep the pair-port columns they need), so that a context kept after the
 * detectors (a findings prelude) holds no more than the rest of the analysis reads. Made again if
 * asked for.
 */
export function releaseScratch(ctx: Context): void {
  codeBuffers.delete(ctx);
  pairCodesCache.delete(ctx);
}

/**
 * Number → dense code (0, 1, 2, ... in order of first `add`), an open-addressing hash table on the
 * key's bits: several times faster than Map<number, number> on millions of rows. Keys compare as
 * Map does (SameValueZero: 0 and -0 are one key); NaN must not be added.
 */
export class KeyIndex {
  size = 0;
  /**
   * While every key is a 32-bit integer (address and pair codes, most keys): [key, code] side by side
   * (code -1 = empty slot), one cache line per probe. Null once another key came: then `keys` and
   * `codes` hold the table (the same slots: an integer hashes alike in both).
   */
  private pairs: Int32Array | null;
  private keys: Float64Array | null = null;
  private codes: Int32Array | null = null;
  private mask: number;
  /** 32 - log2(capacity): the top bits of a 32-bit hash index the table. */
  private shift: number;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.pairs = new Int32Array(2 * cap).fill(-1);
    this.mask = cap - 1;
    this.shift = Math.clz32(cap) + 1;
  }

  private slot(key: number): number {
    // Integers: Fibonacci hashing, the product's top bits.
    if ((key | 0) === key) return Math.imul(key, 0x9e3779b1) >>> this.shift;
    this.f64[0] = key;
    let h = this.u32[0] ^ Math.imul(this.u32[1], 0x9e3779b1);
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** The key's code, -1 when absent. */
  get(key: number): number {
    const k = key + 0; // -0 → 0
    const pairs = this.pairs;
    if (pairs !== null) {
      if ((k | 0) !== k) return -1; // only integers were added
      for (let s = this.slot(k); ; s = (s + 1) & this.mask) {
        const c = pairs[2 * s + 1];
        if (c < 0) return -1;
        if (pairs[2 * s] === k) return c;
      }
    }
    const keys = this.keys!;
    const codes = this.codes!;
    for (let s = this.slot(k); ; s = (s + 1) & this.mask) {
      const c = codes[s];
      if (c < 0) return -1;
      if (keys[s] === k) return c;
    }
  }

  /** The key's code, added as the next code when new. */
  add(key: number): number {
    const k = key + 0;
    const pairs = this.pairs;
    if (pairs !== null) {
      if ((k | 0) === k) {
        for (let s = this.slot(k); ; s = (s + 1) & this.mask) {
          const c = pairs[2 * s + 1];
          if (c < 0) {
            pairs[2 * s] = k;
            pairs[2 * s + 1] = this.size;
            if (++this.size * 2 > this.mask + 1) this.grow();
            return this.size - 1;
          }
          if (pairs[2 * s] === k) return c;
        }
      }
      this.separate();
    }
    const keys = this.keys!;
    const codes = this.codes!;
    for (let s = this.slot(k); ; s = (s + 1) & this.mask) {
      const c = codes[s];
      if (c < 0) {
        keys[s] = k;
        codes[s] = this.size;
        if (++this.size * 2 > codes.length) this.grow();
        return this.size - 1;
      }
      if (keys[s] === k) return c;
    }
  }

  /** From [key, code] pairs to separate keys and codes, slot for slot. */
  private separate(): void {
    const pairs = this.pairs!;
    const cap = this.mask + 1;
    this.keys = new Float64Array(cap);
    this.codes = new Int32Array(cap);
    for (let s = 0; s < cap; s++) {
      this.keys[s] = pairs[2 * s];
      this.codes[s] = pairs[2 * s + 1];
    }
    this.pairs = null;
  }

  private grow(): void {
    const cap = 2 * (this.mask + 1);
    const old = this.mask + 1;
    this.mask = cap - 1;
    this.shift--;
    if (this.pairs !== null) {
      const oldPairs = this.pairs;
      const pairs = new Int32Array(2 * cap).fill(-1);
      for (let s = 0; s < old; s++) {
        const c = oldPairs[2 * s + 1];
        if (c < 0) continue;
        const key = oldPairs[2 * s];
        let t = this.slot(key);
        while (pairs[2 * t + 1] >= 0) t = (t + 1) & this.mask;
        pairs[2 * t] = key;
        pairs[2 * t + 1] = c;
      }
      this.pairs = pairs;
      return;
    }
    const oldKeys = this.keys!;
    const oldCodes = this.codes!;
    this.keys = new Float64Array(cap);
    this.codes = new Int32Array(cap).fill(-1);
    for (let s = 0; s < old; s++) {
      if (oldCodes[s] < 0) continue;
      let t = this.slot(oldKeys[s]);
      while (this.codes[t] >= 0) t = (t + 1) & this.mask;
      this.keys[t] = oldKeys[s];
      this.codes[t] = oldCodes[s];
    }
  }
}

/**
 * Which side of the network an address is on. 'internal': a host of the network the flows were
 * exported from; 'external': a host on the Internet; 'not-a-host': a multicast or broadcast address
 * (a group of receivers) or the unspecified address (none), which is neither.
 */
export type AddressKind = 'internal' | 'external' | 'not-a-host';

/**
 * The ranges that are not external, written once. An IPv4 range also covers its IPv4-mapped IPv6
 * form (`::ffff:10.1.2.3`, as Zeek and dual-stack exporters write it): BlockList matches a mapped
 * address against IPv4 subnets.
 *
 * Internal: ranges the Internet does not route, so a host seen with one is on the exporter's side
 * (CGNAT is the ISP's customer side of its NAT, and overlay VPNs such as Tailscale use it too).
 *
 * Not a host: a multicast or broadcast address names a group of receivers and the unspecified
 * address names none, so there is no host to isolate or to block. Their traffic stays on the local
 * network (broadcast never crosses a router; multicast is forwarded only where routers are set up
 * for it, in practice never to the Internet), so the detectors never take one for the external end
 * of an exfiltration or a beacon (see `isInternal` in rules.ts), and the mitigations write no rule
 * for one (mitigations.ts).
 *
 * Every other address is external, including the special-purpose blocks not listed here
 * (documentation, benchmarking, reserved 240/4): none is anyone's private network.
 */
const ADDRESS_RANGES: readonly { network: string; prefix: number; kind: Exclude<AddressKind, 'external'> }[] = [
  { network: '10.0.0.0', prefix: 8, kind: 'internal' }, // private network (RFC 1918)
  { network: '172.16.0.0', prefix: 12, kind: 'internal' }, // private network (RFC 1918)
  { network: '192.168.0.0', prefix: 16, kind: 'internal' }, // private network (RFC 1918)
  { network: '100.64.0.0', prefix: 10, kind: 'internal' }, // shared address space, carrier-grade NAT (RFC 6598)
  { network: '127.0.0.0', prefix: 8, kind: 'internal' }, // loopback (RFC 1122)
  { network: '169.254.0.0', prefix: 16, kind: 'internal' }, // link-local (RFC 3927)
  { network: '0.0.0.0', prefix: 8, kind: 'not-a-host' }, // "this network": unspecified, a source only while a host has no address yet (RFC 1122)
  { network: '224.0.0.0', prefix: 4, kind: 'not-a-host' }, // multicast (RFC 5771)
  { network: '255.255.255.255', prefix: 32, kind: 'not-a-host' }, // limited broadcast (RFC 919)
  { network: '::1', prefix: 128, kind: 'internal' }, // loopback (RFC 4291)
  { network: 'fe80::', prefix: 10, kind: 'internal' }, // link-local (RFC 4291)
  { network: 'fec0::', prefix: 10, kind: 'internal' }, // site-local, deprecated but still configured (RFC 3879)
  { network: 'fc00::', prefix: 7, kind: 'internal' }, // unique local (RFC 4193)
  { network: '::', prefix: 128, kind: 'not-a-host' }, // unspecified (RFC 4291)
  { network: 'ff00::', prefix: 8, kind: 'not-a-host' }, // multicast (RFC 4291)
];

/**
 * ADDRESS_RANGES as BlockLists: all of them, and the not-a-host ones. A check costs about 1.5 µs (a
 * call into native code), so an external address, the most common in flows and in mitigation
 * scopes, is known from one check; only the others need a second.
 */
const NOT_EXTERNAL = new BlockList();
const NOT_A_HOST = new BlockList();
for (const { network, prefix, kind } of ADDRESS_RANGES) {
  const type = isIPv6(network) ? 'ipv6' : 'ipv4';
  NOT_EXTERNAL.addSubnet(network, prefix, type);
  if (kind === 'not-a-host') NOT_A_HOST.addSubnet(network, prefix, type);
}

/**
 * The kind of an address (see ADDRESS_RANGES); null for text that Node's own parser does not read as
 * an IP address ("10.1.2", "1.2.3.4.5", "fe80::zz", "::ffff:999.1.1.1", "010.0.0.1", surrounding
 * spaces). An IPv6 zone ("fe80::1%eth0") is allowed and plays no part in the kind.
 */
export function addressKind(a: string): AddressKind | null {
  const family = isIP(a);
  if (family === 0) return null;
  const zone = a.indexOf('%');
  const address = zone < 0 ? a : a.slice(0, zone);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (!NOT_EXTERNAL.check(address, type)) return 'external';
  return NOT_A_HOST.check(address, type) ? 'not-a-host' : 'internal';
}

/**
 * true for an internal host's address (private, CGNAT, loopback, link-local, unique-local; also in
 * IPv4-mapped form), false for any other IP address (a public host, or multicast / broadcast /
 * unspecified, which are no internal host), null for text that is no IP address.
 */
export function isPrivateAddress(a: string): boolean | null {
  const kind = addressKind(a);
  return kind === null ? null : kind === 'internal';
}
