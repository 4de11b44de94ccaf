/**
 * The columns findings need, resolved once from a FlowTable: typed arrays (derived where a column is
 * missing but computable), addresses unified into one code space (source and destination columns have
 * separate dictionaries), quantile baselines from an evenly spaced sample, and grouping helpers.
 */
import { CANONICAL } from '../ingest/types.ts';
import type { CategoryColumn, Column, FlowTable } from '../ingest/types.ts';

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

function findColumn(table: FlowTable, name: string): Column | undefined {
  const lower = name.toLowerCase();
  return table.columns.find((c) => c.name.trim().toLowerCase() === lower);
}

function numeric(table: FlowTable, name: string): Float64Array | null {
  const c = findColumn(table, name);
  return c && c.kind === 'numeric' ? c.values : null;
}

function category(table: FlowTable, name: string): CategoryColumn | null {
  const c = findColumn(table, name);
  return c && c.kind === 'category' ? c : null;
}

const SAMPLE = 65_536;

function sortedSample(values: Float64Array): Float64Array {
  const n = values.length;
  const step = Math.max(1, n / SAMPLE);
  const out: number[] = [];
  for (let x = 0; x < n; x += step) {
    const v = values[Math.floor(x)];
    if (Number.isFinite(v)) out.push(v);
  }
  return Float64Array.from(out).sort();
}

export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
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

  const sorted = new Map<Metric, Float64Array>();
  const baseline: Baseline = {
    q(metric, q) {
      const values = metrics[metric];
      if (!values) return NaN;
      let s = sorted.get(metric);
      if (!s) {
        s = sortedSample(values);
        sorted.set(metric, s);
      }
      return quantileSorted(s, q);
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
  const timeCol = findColumn(table, CANONICAL.timestamp) ?? table.columns.find((c) => c.kind === 'time');
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

/** Row indices ordered by time (rows without a time last, in row order); stable. */
export function timeOrder(time: Float64Array): Uint32Array {
  const n = time.length;
  const order = new Uint32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = time[i];
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const span = Number.isFinite(min) ? Math.ceil(max - min) + 2 : 1;
  if (span * n < 2 ** 53) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = time[i];
      keys[i] = (Number.isFinite(t) ? t - min : span - 1) * n + i;
    }
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i] % n;
  } else {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => (time[a] || Infinity) - (time[b] || Infinity) || a - b);
  }
  return order;
}

/** Compressed groups: rows of group g are `rows[start[g] .. start[g+1])`, in `order`'s order. */
export interface Groups {
  readonly count: number;
  readonly start: Int32Array;
  readonly rows: Uint32Array;
}

/** Stable counting sort of `order` by group code (codes < 0 are left out). */
export function groupBy(codes: Int32Array, groupCount: number, order: Uint32Array | null): Groups {
  const n = codes.length;
  const start = new Int32Array(groupCount + 1);
  for (let i = 0; i < n; i++) if (codes[i] >= 0) start[codes[i] + 1]++;
  for (let g = 0; g < groupCount; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groupCount);
  const rows = new Uint32Array(start[groupCount]);
  for (let k = 0; k < n; k++) {
    const i = order ? order[k] : k;
    const g = codes[i];
    if (g >= 0) rows[fill[g]++] = i;
  }
  return { count: groupCount, start, rows };
}

/** Dense codes for a numeric key per row (e.g. a pair of address codes); -1 where key is NaN. */
export function denseCodes(n: number, key: (i: number) => number): { codes: Int32Array; count: number } {
  const map = new Map<number, number>();
  const codes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = key(i);
    if (Number.isNaN(k)) {
      codes[i] = -1;
      continue;
    }
    let c = map.get(k);
    if (c === undefined) {
      c = map.size;
      map.set(k, c);
    }
    codes[i] = c;
  }
  return { codes, count: map.size };
}

const PRIVATE_V4 = [
  [10, 0, 8],
  [172, 16, 12],
  [192, 168, 16],
  [127, 0, 8],
  [169, 254, 16],
  [100, 64, 10],
] as const;

/** true for RFC 1918 / loopback / link-local / CGNAT / ULA addresses; false for public; null for non-IP text. */
export function isPrivateAddress(a: string): boolean | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(a);
  if (m) {
    const o = m.slice(1, 5).map(Number);
    if (o.some((x) => x > 255)) return null;
    const v = ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3];
    for (const [a0, a1, bits] of PRIVATE_V4) {
      const base = ((a0 << 24) >>> 0) + (a1 << 16);
      const mask = (0xffffffff << (32 - bits)) >>> 0;
      if (((v & mask) >>> 0) === ((base & mask) >>> 0)) return true;
    }
    return false;
  }
  if (a.includes(':')) {
    const l = a.toLowerCase();
    return l === '::1' || l.startsWith('fe80:') || l.startsWith('fc') || l.startsWith('fd') || l.startsWith('ff');
  }
  return null;
}
