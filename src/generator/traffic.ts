/**
 * Seeded synthetic flow traffic with labels: a daily rhythm of normal service traffic plus attack
 * episodes (DDoS, exfiltration, port scans, brute force, beaconing) placed within the window.
 * Columnar (typed arrays + dictionaries): 1,000,000 rows without an object per row.
 */
import { Rng } from './prng.ts';
import type { GeneratorOptions } from './options.ts';
import { resolveOptions } from './options.ts';
import {
  ATTACK_TYPES,
  buildAddressPlan,
  dailyWeight,
  ICMP,
  INTERNAL_SERVERS,
  PROTOCOLS,
  SERVICE_CUMULATIVE,
  SERVICES,
  TCP,
  UDP,
} from './profiles.ts';
import type { AddressPlan, GeneratedAttackType } from './profiles.ts';

export interface AttackEpisode {
  readonly type: Exclude<GeneratedAttackType, 'normal'>;
  readonly start: number; // epoch ms
  readonly end: number;
  readonly flows: number;
  readonly sources: readonly string[];
  readonly targets: readonly string[];
  readonly ports: readonly number[];
}

export interface GeneratedTraffic {
  readonly rows: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly seed: number;
  readonly bytes: Float64Array;
  readonly packets: Float64Array;
  /** Seconds, rounded to milliseconds, always > 0. */
  readonly duration: Float64Array;
  readonly sourcePort: Int32Array;
  readonly destinationPort: Int32Array;
  readonly retransmissionRate: Float64Array;
  /** Epoch milliseconds (whole seconds), ascending. */
  readonly timestamp: Float64Array;
  readonly protocol: Uint8Array; // index into `protocols`
  readonly protocols: readonly string[];
  readonly bytesPerPacket: Float64Array;
  readonly packetsPerSecond: Float64Array;
  readonly sourceIp: Int32Array; // index into `addresses`
  readonly destinationIp: Int32Array;
  readonly addresses: readonly string[];
  readonly label: Uint8Array;
  readonly attackType: Uint8Array; // index into `attackTypes`
  readonly attackTypes: readonly string[];
  readonly episodes: readonly AttackEpisode[];
}

const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Mutable columns while generating, in generation order (sorted by time at the end). */
class Builder {
  readonly bytes: Float64Array;
  readonly packets: Float64Array;
  readonly duration: Float64Array;
  readonly sport: Int32Array;
  readonly dport: Int32Array;
  readonly retrans: Float64Array;
  readonly time: Float64Array;
  readonly proto: Uint8Array;
  readonly src: Int32Array;
  readonly dst: Int32Array;
  readonly type: Uint8Array;
  readonly addresses: string[] = [];
  private readonly addressIndex = new Map<string, number>();
  n = 0;

  constructor(readonly capacity: number) {
    this.bytes = new Float64Array(capacity);
    this.packets = new Float64Array(capacity);
    this.duration = new Float64Array(capacity);
    this.sport = new Int32Array(capacity);
    this.dport = new Int32Array(capacity);
    this.retrans = new Float64Array(capacity);
    this.time = new Float64Array(capacity);
    this.proto = new Uint8Array(capacity);
    this.src = new Int32Array(capacity);
    this.dst = new Int32Array(capacity);
    this.type = new Uint8Array(capacity);
  }

  address(a: string): number {
    let code = this.addressIndex.get(a);
    if (code === undefined) {
      code = this.addresses.length;
      this.addresses.push(a);
      this.addressIndex.set(a, code);
    }
    return code;
  }

  add(
    timeMs: number,
    proto: number,
    src: number,
    sport: number,
    dst: number,
    dport: number,
    packets: number,
    bytesPerPacket: number,
    duration: number,
    retrans: number,
    type: number,
  ): void {
    const i = this.n++;
    const p = Math.max(1, Math.round(packets));
    this.packets[i] = p;
    this.bytes[i] = Math.max(p * 20, Math.round(p * bytesPerPacket));
    this.duration[i] = Math.max(0.001, round(duration, 3));
    this.sport[i] = proto === ICMP ? 0 : sport;
    this.dport[i] = proto === ICMP ? 0 : dport;
    this.retrans[i] = Math.min(1, Math.max(0, round(retrans, 4)));
    this.time[i] = timeMs;
    this.proto[i] = proto;
    this.src[i] = src;
    this.dst[i] = dst;
    this.type[i] = type;
  }
}

const ephemeral = (rng: Rng): number => rng.int(32768, 60999);

/** A time in [startMs, endMs) drawn with the daily rhythm (rejection sampling), whole seconds. */
function rhythmTime(rng: Rng, startMs: number, endMs: number): number {
  for (;;) {
    const t = rng.uniform(startMs, endMs);
    const hour = (t / 3_600_000) % 24;
    if (rng.next() * 1.0 <= dailyWeight(hour)) return Math.floor(t / 1000) * 1000;
  }
}

function normalRetrans(rng: Rng): number {
  return rng.next() < 0.7 ? 0 : Math.min(0.2, rng.exponential(0.01));
}

function addNormal(b: Builder, rng: Rng, plan: AddressPlan, startMs: number, endMs: number, count: number): void {
  const clientCodes = plan.clients.map((c) => b.address(c));
  const adminCodes = plan.admins.map((c) => b.address(c));
  const externalCodes = plan.externalServers.map((c) => b.address(c));
  const serverCodes = SERVICES.map((s) => (s.server === 'external' ? -1 : b.address(s.server)));
  for (let k = 0; k < count; k++) {
    const si = rng.weighted(SERVICE_CUMULATIVE);
    const s = SERVICES[si];
    const src = s.adminOnly ? rng.pick(adminCodes) : clientCodes[rng.weighted(plan.clientCumulative)];
    const dst = serverCodes[si] >= 0 ? serverCodes[si] : externalCodes[rng.weighted(plan.externalCumulative)];
    const packets = Math.max(1, rng.logNormal(s.packetsMedian, s.packetsSigma));
    const bpp = Math.min(s.bppMax, Math.max(s.bppMin, s.bppMean + s.bppSd * rng.normal()));
    const duration = rng.logNormal(s.durationMedian, s.durationSigma);
    b.add(rhythmTime(rng, startMs, endMs), s.protocol, src, ephemeral(rng), dst, s.port, packets, bpp, duration, normalRetrans(rng), 0);
  }
}

const ATTACK_ORDER: readonly Exclude<GeneratedAttackType, 'normal'>[] = [
  'ddos',
  'data_exfiltration',
  'port_scan',
  'brute_force',
  'beaconing',
];

/** Episode length in seconds for each attack type (before clamping to the window). */
const EPISODE_SECONDS: Record<Exclude<GeneratedAttackType, 'normal'>, [number, number]> = {
  ddos: [180, 480],
  data_exfiltration: [1800, 7200],
  port_scan: [120, 600],
  brute_force: [600, 2400],
  beaconing: [0, 0], // from the interval
};

function episodeCount(type: Exclude<GeneratedAttackType, 'normal'>, flows: number, windowSec: number): number {
  if (flows === 0) return 0;
  let n = Math.min(12, Math.max(1, Math.ceil(flows / 400)));
  if (type === 'beaconing') n = Math.max(n, Math.ceil((flows * 30) / (0.9 * windowSec)));
  return Math.min(n, flows);
}

function addEpisode(
  b: Builder,
  rng: Rng,
  plan: AddressPlan,
  type: Exclude<GeneratedAttackType, 'normal'>,
  flows: number,
  startMs: number,
  endMs: number,
): AttackEpisode {
  const code = ATTACK_TYPES.indexOf(type);
  const windowSec = (endMs - startMs) / 1000;
  const pickStart = (lengthSec: number): number => {
    const len = Math.min(lengthSec, windowSec * 0.9);
    return Math.floor(rng.uniform(startMs, endMs - len * 1000) / 1000) * 1000;
  };
  const inWindow = (t: number): number => Math.min(endMs - 1000, Math.max(startMs, Math.floor(t / 1000) * 1000));
  const [lo, hi] = EPISODE_SECONDS[type];
  const internalClient = () => plan.clients[8 + rng.int(0, plan.clients.length - 9)];

  switch (type) {
    case 'ddos': {
      const targetName = rng.pick([INTERNAL_SERVERS.web, INTERNAL_SERVERS.app]);
      const port = targetName === INTERNAL_SERVERS.web ? 443 : 8080;
      const target = b.address(targetName);
      const botCount = Math.max(10, Math.min(2000, Math.ceil(flows / 2)));
      const bots = Array.from({ length: botCount }, () => b.address(plan.freshPublic(rng)));
      const len = Math.min(rng.uniform(lo, hi), windowSec * 0.9);
      const t0 = pickStart(len);
      const udp = rng.next() < 0.3;
      for (let k = 0; k < flows; k++) {
        const packets = rng.logNormal(800, 0.8);
        const bpp = udp ? rng.uniform(60, 120) : rng.uniform(40, 60);
        const duration = rng.logNormal(0.4, 0.6);
        b.add(inWindow(t0 + rng.next() * len * 1000), udp ? UDP : TCP, bots[k % botCount], ephemeral(rng), target, port, packets, bpp, duration, rng.uniform(0.2, 0.6), code);
      }
      return { type, start: t0, end: t0 + len * 1000, flows, sources: bots.map((x) => b.addresses[x]), targets: [targetName], ports: [port] };
    }
    case 'data_exfiltration': {
      const srcName = internalClient();
      const dstName = plan.freshPublic(rng);
      const port = rng.pick([443, 443, 22, 8443, 21]);
      const src = b.address(srcName);
      const dst = b.address(dstName);
      const len = Math.min(rng.uniform(lo, hi), windowSec * 0.9);
      const t0 = pickStart(len);
      for (let k = 0; k < flows; k++) {
        const packets = rng.logNormal(60000, 0.6);
        b.add(inWindow(t0 + rng.next() * len * 1000), TCP, src, ephemeral(rng), dst, port, packets, rng.uniform(1300, 1460), rng.logNormal(300, 0.5), Math.min(0.05, rng.exponential(0.005)), code);
      }
      return { type, start: t0, end: t0 + len * 1000, flows, sources: [srcName], targets: [dstName], ports: [port] };
    }
    case 'port_scan': {
      const external = rng.next() < 0.5;
      const srcName = external ? plan.freshPublic(rng) : internalClient();
      const src = b.address(srcName);
      const vertical = rng.next() < 0.7 || flows < 20;
      const len = Math.min(rng.uniform(lo, hi), windowSec * 0.9);
      const t0 = pickStart(len);
      const sport = ephemeral(rng);
      const targetNames: string[] = [];
      let ports: number[];
      if (vertical) {
        targetNames.push(rng.pick(Object.values(INTERNAL_SERVERS)));
        const common = [21, 22, 23, 25, 53, 80, 110, 135, 139, 143, 443, 445, 993, 995, 1433, 3306, 3389, 5432, 5900, 8080];
        const extra = rng.distinct(Math.max(0, flows - common.length), 1, 65535).filter((p) => !common.includes(p));
        ports = common.concat(extra).slice(0, flows);
      } else {
        const port = rng.pick([22, 445, 3389, 23, 80]);
        ports = [port];
        for (const h of rng.distinct(flows, 1, 4000)) targetNames.push(`10.${20 + (h >> 8)}.${h & 255}.${1 + (h % 250)}`);
      }
      const targets = targetNames.map((t) => b.address(t));
      for (let k = 0; k < flows; k++) {
        const rejected = rng.next() < 0.6;
        const packets = rejected ? 1 : 2;
        const dst = vertical ? targets[0] : targets[k % targets.length];
        const port = vertical ? ports[k % ports.length] : ports[0];
        b.add(inWindow(t0 + (k / flows) * len * 1000 + rng.next() * 1000), TCP, src, sport, dst, port, packets, rng.uniform(40, 60), rng.uniform(0.0005, 0.01), rejected ? 0 : 0.5, code);
      }
      return { type, start: t0, end: t0 + len * 1000, flows, sources: [srcName], targets: targetNames.slice(0, 50), ports: ports.slice(0, 50) };
    }
    case 'brute_force': {
      const targetsByPort: [number, string][] = [
        [22, INTERNAL_SERVERS.ssh],
        [3389, INTERNAL_SERVERS.rdp],
        [21, INTERNAL_SERVERS.ftp],
        [445, INTERNAL_SERVERS.files],
      ];
      const [port, targetName] = rng.pick(targetsByPort);
      const srcName = rng.next() < 0.75 ? plan.freshPublic(rng) : internalClient();
      const src = b.address(srcName);
      const dst = b.address(targetName);
      const len = Math.min(rng.uniform(lo, hi), windowSec * 0.9);
      const t0 = pickStart(len);
      for (let k = 0; k < flows; k++) {
        b.add(inWindow(t0 + rng.next() * len * 1000), TCP, src, ephemeral(rng), dst, port, rng.uniform(12, 30), rng.uniform(80, 150), rng.uniform(0.5, 4), rng.uniform(0, 0.05), code);
      }
      return { type, start: t0, end: t0 + len * 1000, flows, sources: [srcName], targets: [targetName], ports: [port] };
    }
    case 'beaconing': {
      const srcName = internalClient();
      const dstName = plan.freshPublic(rng);
      const port = rng.pick([443, 443, 80, 8080]);
      const src = b.address(srcName);
      const dst = b.address(dstName);
      const maxInterval = (windowSec * 0.9) / Math.max(1, flows);
      const interval = Math.max(10, Math.min(rng.uniform(30, 300), maxInterval));
      const len = interval * flows;
      const t0 = pickStart(len);
      const packets = rng.int(4, 6);
      const bpp = rng.uniform(120, 250);
      const dur = rng.uniform(0.1, 0.5);
      for (let k = 0; k < flows; k++) {
        const t = t0 + (k * interval + rng.normal() * 0.03 * interval) * 1000;
        b.add(inWindow(t), TCP, src, ephemeral(rng), dst, port, packets + (rng.next() < 0.2 ? 1 : 0), bpp * (1 + 0.04 * rng.normal()), dur * (1 + 0.1 * rng.normal()), 0, code);
      }
      return { type, start: t0, end: t0 + len * 1000, flows, sources: [srcName], targets: [dstName], ports: [port] };
    }
  }
}

export function generateTraffic(opts: GeneratorOptions): GeneratedTraffic {
  const o = resolveOptions(opts);
  const rng = new Rng(o.seed);
  const plan = buildAddressPlan(rng);
  const n = o.rows;
  const anomalies = Math.round(n * o.anomalyShare);
  const b = new Builder(n);
  addNormal(b, rng, plan, o.startMs, o.endMs, n - anomalies);

  const episodes: AttackEpisode[] = [];
  const windowSec = (o.endMs - o.startMs) / 1000;
  ATTACK_ORDER.forEach((type, ti) => {
    const flows = Math.floor(anomalies / ATTACK_ORDER.length) + (ti < anomalies % ATTACK_ORDER.length ? 1 : 0);
    const k = episodeCount(type, flows, windowSec);
    for (let e = 0; e < k; e++) {
      const share = Math.floor(flows / k) + (e < flows % k ? 1 : 0);
      if (share > 0) episodes.push(addEpisode(b, rng, plan, type, share, o.startMs, o.endMs));
    }
  });

  // Order by time (stable on generation order): keys time-offset-seconds * n + i are exact below 2^53.
  const order = sortByTime(b.time, n, o.startMs);
  const take = <T extends Float64Array | Int32Array | Uint8Array>(src: T, out: T): T => {
    for (let i = 0; i < n; i++) out[i] = src[order[i]];
    return out;
  };
  const bytes = take(b.bytes, new Float64Array(n));
  const packets = take(b.packets, new Float64Array(n));
  const duration = take(b.duration, new Float64Array(n));
  const type = take(b.type, new Uint8Array(n));
  const label = new Uint8Array(n);
  const bytesPerPacket = new Float64Array(n);
  const packetsPerSecond = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    label[i] = type[i] === 0 ? 0 : 1;
    bytesPerPacket[i] = round(bytes[i] / packets[i], 4);
    packetsPerSecond[i] = round(packets[i] / duration[i], 4);
  }
  return {
    rows: n,
    startMs: o.startMs,
    endMs: o.endMs,
    seed: o.seed,
    bytes,
    packets,
    duration,
    sourcePort: take(b.sport, new Int32Array(n)),
    destinationPort: take(b.dport, new Int32Array(n)),
    retransmissionRate: take(b.retrans, new Float64Array(n)),
    timestamp: take(b.time, new Float64Array(n)),
    protocol: take(b.proto, new Uint8Array(n)),
    protocols: PROTOCOLS,
    bytesPerPacket,
    packetsPerSecond,
    sourceIp: take(b.src, new Int32Array(n)),
    destinationIp: take(b.dst, new Int32Array(n)),
    addresses: b.addresses,
    label,
    attackType: type,
    attackTypes: ATTACK_TYPES,
    episodes,
  };
}

function sortByTime(time: Float64Array, n: number, startMs: number): Uint32Array {
  const order = new Uint32Array(n);
  let maxSec = 0;
  for (let i = 0; i < n; i++) maxSec = Math.max(maxSec, (time[i] - startMs) / 1000);
  if ((maxSec + 1) * n < 2 ** 53) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++) keys[i] = ((time[i] - startMs) / 1000) * n + i;
    keys.sort();
    for (let i = 0; i < n; i++) order[i] = keys[i] % n;
  } else {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, c) => time[a] - time[c] || a - c);
  }
  return order;
}
