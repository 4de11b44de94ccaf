/**
 * Per-flow attack typing: a table of rules (data), each a set of weighted conditions with
 * thresholds relative to the data's own baseline (quantiles), and the ATT&CK technique.
 * A rule's score is the weight of its satisfied conditions; required conditions gate the rule.
 * The detector's explanation adds weight when its top feature is one of the rule's signatures.
 */
import type { Explanation } from '../detection/types.ts';
import { CANONICAL } from '../ingest/types.ts';
import type { AttackType } from './types.ts';
import type { Context, Metric } from './context.ts';
import { denseCodesOf, isPrivateAddress as isPrivate } from './context.ts';

/** Ports of interactive login / authentication services (brute-force targets). */
export const AUTH_PORTS: readonly number[] = [21, 22, 23, 25, 110, 143, 389, 445, 587, 993, 995, 1433, 3306, 3389, 5432, 5900];

/** Ports of well-known services (a large transfer elsewhere is "non-standard port", T1571). */
export const SERVICE_PORTS: readonly number[] = [
  0, 20, 21, 22, 23, 25, 53, 67, 68, 80, 110, 123, 137, 138, 139, 143, 161, 389, 443, 445, 465, 514, 587, 636, 853, 993,
  995, 1433, 1521, 3306, 3389, 5060, 5353, 5432, 5900, 8080, 8443,
];

export type Condition =
  | { readonly kind: 'above' | 'below'; readonly metric: Metric; readonly quantile: number; readonly factor?: number; readonly weight: number; readonly required?: boolean; readonly text: string }
  | { readonly kind: 'at-most'; readonly metric: Metric; readonly value: number; readonly weight: number; readonly required?: boolean; readonly text: string }
  | { readonly kind: 'port-in'; readonly ports: readonly number[]; readonly weight: number; readonly required?: boolean; readonly text: string }
  | { readonly kind: 'rare-port'; readonly maxShare: number; readonly weight: number; readonly required?: boolean; readonly text: string }
  | { readonly kind: 'protocol'; readonly protocol: string; readonly weight: number; readonly required?: boolean; readonly text: string }
  | { readonly kind: 'internal-to-external'; readonly weight: number; readonly required?: boolean; readonly text: string; /** Gate only when addresses exist. */ readonly requiredWhenKnown?: boolean }
  | { readonly kind: 'repeated'; readonly min: number; readonly weight: number; readonly required?: boolean; readonly text: string };

/**
 * What the flows a rule typed (with no behaviour detector agreeing) must show together before the
 * incident may claim the rule's attack: the rule judges one flow, the attack is many flows or much
 * data. The incident needs `minFlows` flows and, of the alternatives listed that the data can
 * measure, at least one; with none listed or measurable, `minFlows` alone decides. Without that
 * support its flows are reported as unusual, untyped, with the reason.
 */
export interface Corroboration {
  readonly minFlows: number;
  /** Distinct sources towards the target in the incident. */
  readonly minSources?: number;
  /** Distinct destination ports in the incident. */
  readonly minPorts?: number;
  /** The target's packet rate (all its flows) in the incident's window vs its own average rate. */
  readonly rateFactor?: number;
  /** The incident's bytes vs the 99th percentile of one flow's bytes. */
  readonly bytesFactor?: number;
  /** What the flow is, said without claiming the attack: the untyped reason's lead. */
  readonly plain: string;
  /** How the attack is named in "not …" sentences. */
  readonly claim: string;
}

export interface TypingRule {
  readonly id: string;
  readonly type: AttackType;
  readonly technique: string;
  readonly label: string;
  readonly conditions: readonly Condition[];
  /** Explanation features (with direction) that support this rule when they lead the explanation. */
  readonly signature: readonly { readonly feature: string; readonly direction: 'high' | 'low' }[];
  /** Volume the attack needs beyond one flow's shape (absent: one flow is enough, e.g. an oversized ICMP). */
  readonly corroboration?: Corroboration;
}

/** Highest confidence of a flow whose rule's attack lacked corroboration (reported as untyped). */
export const UNCORROBORATED_CONFIDENCE = 0.45;

/** Minimum rule score (0..1) to type a flow; below it the flow is "unusual, untyped". */
export const TYPING_THRESHOLD = 0.6;

export const TYPING_RULES: readonly TypingRule[] = [
  {
    id: 'flood',
    type: 'ddos',
    technique: 'T1498',
    label: 'volumetric flood',
    conditions: [
      { kind: 'above', metric: 'pps', quantile: 0.99, weight: 0.35, text: 'packet rate above the 99th percentile' },
      { kind: 'above', metric: 'packets', quantile: 0.95, weight: 0.3, required: true, text: 'packet count above the 95th percentile' },
      { kind: 'below', metric: 'bpp', quantile: 0.25, weight: 0.2, text: 'small packets (below the 25th percentile of bytes/packet)' },
      { kind: 'above', metric: 'retrans', quantile: 0.9, weight: 0.15, text: 'retransmissions above the 90th percentile' },
    ],
    signature: [
      { feature: 'packets_per_second', direction: 'high' },
      { feature: 'packet_count', direction: 'high' },
    ],
    corroboration: { minFlows: 5, minSources: 10, rateFactor: 5, plain: 'unusual high packet rate', claim: 'a flood' },
  },
  {
    id: 'probe',
    type: 'port_scan',
    technique: 'T1046',
    label: 'scan probe',
    conditions: [
      { kind: 'at-most', metric: 'packets', value: 3, weight: 0.3, required: true, text: 'at most 3 packets' },
      { kind: 'below', metric: 'bytes', quantile: 0.1, factor: 1.5, weight: 0.2, text: 'tiny (bytes near the 10th percentile)' },
      { kind: 'below', metric: 'duration', quantile: 0.1, factor: 1.5, weight: 0.2, text: 'very short (duration near the 10th percentile)' },
      { kind: 'rare-port', maxShare: 0.005, weight: 0.3, text: 'a destination port this data rarely uses' },
    ],
    signature: [
      { feature: 'packet_count', direction: 'low' },
      { feature: 'bytes_transferred', direction: 'low' },
      { feature: 'connection_duration', direction: 'low' },
    ],
    corroboration: { minFlows: 5, minPorts: 5, plain: 'tiny, probe-like flow', claim: 'a scan' },
  },
  {
    id: 'auth-attempt',
    type: 'brute_force',
    technique: 'T1110',
    label: 'login attempt burst',
    conditions: [
      { kind: 'port-in', ports: AUTH_PORTS, weight: 0.2, required: true, text: 'an authentication service port' },
      { kind: 'repeated', min: 10, weight: 0.2, required: true, text: 'connections repeated between the same source, host and port' },
      { kind: 'at-most', metric: 'duration', value: 10, weight: 0.2, required: true, text: 'a short connection (at most 10 s)' },
      { kind: 'at-most', metric: 'packets', value: 60, weight: 0.2, required: true, text: 'few packets (at most 60)' },
      { kind: 'below', metric: 'bytes', quantile: 0.5, weight: 0.2, text: 'bytes below the median' },
    ],
    signature: [
      { feature: 'connection_duration', direction: 'low' },
      { feature: 'bytes_per_packet', direction: 'low' },
    ],
    corroboration: { minFlows: 5, plain: 'short connection to an authentication port', claim: 'a brute force' },
  },
  {
    id: 'bulk-upload',
    type: 'data_exfiltration',
    technique: 'T1048',
    label: 'bulk transfer out',
    conditions: [
      { kind: 'above', metric: 'bytes', quantile: 0.99, weight: 0.35, required: true, text: 'bytes above the 99th percentile' },
      { kind: 'above', metric: 'duration', quantile: 0.9, weight: 0.2, text: 'duration above the 90th percentile' },
      { kind: 'above', metric: 'bpp', quantile: 0.75, weight: 0.15, text: 'full-size packets (bytes/packet above the 75th percentile)' },
      { kind: 'internal-to-external', weight: 0.3, requiredWhenKnown: true, text: 'from an internal host to an external address' },
    ],
    signature: [
      { feature: 'bytes_transferred', direction: 'high' },
      { feature: 'connection_duration', direction: 'high' },
    ],
    corroboration: { minFlows: 1, bytesFactor: 20, plain: 'large transfer out', claim: 'an exfiltration' },
  },
  {
    id: 'icmp-tunnel',
    type: 'protocol_misuse',
    technique: 'T1095',
    label: 'oversized ICMP',
    conditions: [
      { kind: 'protocol', protocol: 'ICMP', weight: 0.5, required: true, text: 'ICMP' },
      { kind: 'above', metric: 'bytes', quantile: 0.9, weight: 0.5, text: 'bytes above the 90th percentile' },
    ],
    signature: [{ feature: 'bytes_transferred', direction: 'high' }],
  },
  {
    id: 'dns-tunnel',
    type: 'protocol_misuse',
    technique: 'T1071.004',
    label: 'oversized DNS',
    conditions: [
      { kind: 'port-in', ports: [53], weight: 0.5, required: true, text: 'DNS port 53' },
      { kind: 'above', metric: 'bytes', quantile: 0.9, weight: 0.5, text: 'bytes above the 90th percentile' },
    ],
    signature: [{ feature: 'bytes_transferred', direction: 'high' }],
  },
  {
    id: 'odd-port',
    type: 'protocol_misuse',
    technique: 'T1571',
    label: 'service on a non-standard port',
    conditions: [
      { kind: 'rare-port', maxShare: 0.001, weight: 0.35, required: true, text: 'a destination port this data rarely uses' },
      { kind: 'above', metric: 'bytes', quantile: 0.95, weight: 0.35, text: 'bytes above the 95th percentile' },
      { kind: 'above', metric: 'duration', quantile: 0.75, weight: 0.3, text: 'duration above the 75th percentile' },
    ],
    signature: [{ feature: 'bytes_transferred', direction: 'high' }],
  },
];

/** Thresholds of every rule condition resolved against the data's baseline (once per analysis). */
export interface ResolvedRules {
  readonly rules: readonly TypingRule[];
  readonly thresholds: readonly Float64Array[]; // per rule, per condition (NaN when not numeric)
}

export function resolveRules(ctx: Context, rules: readonly TypingRule[] = TYPING_RULES): ResolvedRules {
  return {
    rules,
    thresholds: rules.map((r) =>
      Float64Array.from(r.conditions, (c) =>
        c.kind === 'above' || c.kind === 'below' ? ctx.baseline.q(c.metric, c.quantile) * (c.factor ?? 1) : c.kind === 'at-most' ? c.value : NaN,
      ),
    ),
  };
}

export interface Typing {
  readonly type: AttackType;
  readonly technique: string | null;
  readonly confidence: number;
  readonly reason: string;
  /** Index of the rule that typed the flow (into the resolved rules), -1 when untyped. */
  readonly rule: number;
  /** Bit k set when the rule's condition k held for the flow. */
  readonly held: number;
}

export const fmt = (x: number): string =>
  !Number.isFinite(x) ? String(x) : Math.abs(x) >= 100 ? groupThousands(Math.round(x)) : shortPrecision3(x);

/**
 * String(Number(x.toPrecision(3))) for finite x, without the round trip through a number: the
 * three digits minus trailing zeros (a number's shortest text, in the same plain or exponent form).
 */
export function shortPrecision3(x: number): string {
  // Subnormal numbers have fewer digits than three can say: there the round trip decides.
  if (Math.abs(x) < 1e-290) return String(Number(x.toPrecision(3)));
  const p = x.toPrecision(3);
  const e = p.indexOf('e');
  const mantissa = e < 0 ? p : p.slice(0, e);
  if (mantissa.indexOf('.') < 0) return p;
  let end = mantissa.length;
  while (mantissa.charCodeAt(end - 1) === 48) end--; // '0'
  if (mantissa.charCodeAt(end - 1) === 46) end--; // '.'
  const m = end === mantissa.length ? mantissa : mantissa.slice(0, end);
  return m === '-0' ? '0' : e < 0 ? m : m + p.slice(e);
}

/** An integer as toLocaleString('en-US') writes it ("1,234,567"), without Intl's cost per call. */
export function groupThousands(v: number): string {
  if (!(Math.abs(v) < 1e21) || !Number.isInteger(v)) return v.toLocaleString('en-US');
  const digits = String(Math.abs(v));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let k = out.length; k < digits.length; k += 3) out += ',' + digits.slice(k, k + 3);
  return v < 0 || Object.is(v, -0) ? '-' + out : out;
}

const HOLDS = 1;
const FAILS = 0;
const UNKNOWN = -1;
const OP_UNKNOWN = 0;
const OP_ABOVE = 1;
const OP_BELOW = 2;
const OP_AT_MOST = 3;
const OP_PORT_IN = 4;
const OP_RARE_PORT = 5;
const OP_PROTOCOL = 6;
const OP_REPEATED = 7;
const OP_INTERNAL_TO_EXTERNAL = 8;

/** 1 at each whole port 0..65535 of the list. */
function portTable(ports: readonly number[]): Uint8Array {
  const t = new Uint8Array(65536);
  for (const p of ports) if (p >= 0 && p <= 65535 && p === Math.floor(p)) t[p] = 1;
  return t;
}
const SERVICE_PORT_TABLE = portTable(SERVICE_PORTS);

/**
 * One rule condition bound to the data's columns: one object shape for every kind (the typing loop
 * stays monomorphic), with the threshold, port and protocol lookups resolved once.
 */
class BoundCondition {
  readonly op: number;
  readonly weight: number;
  readonly required: boolean;
  readonly gateWhenKnown: boolean;
  readonly values: Float64Array | null = null;
  readonly threshold: number;
  readonly ports: readonly number[] = [];
  readonly portSet: Uint8Array | null = null;
  readonly maxShare: number = 0;
  readonly protocolMatch: Uint8Array | null = null;
  readonly min: number = 0;
  /** A metric condition's reason is `${textBefore}${fmt(value)}${textAfter}`. */
  readonly textBefore: string = '';
  readonly textAfter: string = '';

  constructor(ctx: Context, c: Condition, threshold: number) {
    this.weight = c.weight;
    this.required = c.required === true;
    this.gateWhenKnown = c.kind === 'internal-to-external' && c.requiredWhenKnown === true;
    this.threshold = threshold;
    let op = OP_UNKNOWN;
    switch (c.kind) {
      case 'above':
      case 'below':
      case 'at-most': {
        const values = ctx.metrics[c.metric];
        if (values && !Number.isNaN(threshold)) {
          op = c.kind === 'above' ? OP_ABOVE : c.kind === 'below' ? OP_BELOW : OP_AT_MOST;
          this.values = values;
          this.textBefore = `${METRIC_NAMES[c.metric]} `;
          this.textAfter = ` ${c.kind === 'above' ? '>' : c.kind === 'below' ? '<' : '≤'} ${fmt(threshold)}: ${c.text}`;
        }
        break;
      }
      case 'port-in':
        if (ctx.dport && c.ports.length > 0) {
          op = OP_PORT_IN;
          this.ports = c.ports;
          this.portSet = portTable(c.ports);
        }
        break;
      case 'rare-port':
        if (ctx.dport && ctx.portShare) {
          op = OP_RARE_PORT;
          this.maxShare = c.maxShare;
        }
        break;
      case 'protocol':
        if (ctx.protocolCode) {
          op = OP_PROTOCOL;
          this.protocolMatch = Uint8Array.from(ctx.protocolNames, (name) => (name === c.protocol ? 1 : 0));
        }
        break;
      case 'repeated':
        op = OP_REPEATED;
        this.min = c.min;
        break;
      case 'internal-to-external':
        if (ctx.src && ctx.dst) op = OP_INTERNAL_TO_EXTERNAL;
        break;
    }
    this.op = op;
  }

  /** HOLDS, FAILS or UNKNOWN (the data cannot say) for one row. */
  test(ctx: Context, row: number): number {
    switch (this.op) {
      case OP_ABOVE:
      case OP_BELOW:
      case OP_AT_MOST: {
        const v = this.values![row];
        if (Number.isNaN(v)) return UNKNOWN;
        const th = this.threshold;
        return (this.op === OP_ABOVE ? v > th : this.op === OP_BELOW ? v < th : v <= th) ? HOLDS : FAILS;
      }
      case OP_PORT_IN: {
        const p = ctx.dport![row];
        // Whole ports by table; anything else as Array.includes compares (SameValueZero).
        const hit = p >= 0 && p <= 65535 && p === Math.floor(p) ? this.portSet![p] === 1 : this.ports.includes(p);
        return hit ? HOLDS : FAILS;
      }
      case OP_RARE_PORT: {
        const p = ctx.dport![row];
        if (!(p >= 0 && p <= 65535)) return UNKNOWN;
        const service = p === Math.floor(p) && SERVICE_PORT_TABLE[p] === 1;
        return ctx.portShare![p | 0] <= this.maxShare && !service ? HOLDS : FAILS;
      }
      case OP_PROTOCOL: {
        const code = ctx.protocolCode![row];
        return code >= 0 && this.protocolMatch![code] === 1 ? HOLDS : FAILS;
      }
      case OP_REPEATED:
        return repeatCount(ctx, row) >= this.min ? HOLDS : FAILS;
      case OP_INTERNAL_TO_EXTERNAL: {
        const s = ctx.src![row];
        const d = ctx.dst![row];
        if (s < 0 || d < 0) return UNKNOWN;
        const v = isInternalToExternal(ctx, s, d);
        return v === null ? UNKNOWN : v ? HOLDS : FAILS;
      }
      default:
        return UNKNOWN;
    }
  }
}

interface BoundRules {
  readonly ctx: Context;
  readonly conditions: readonly (readonly BoundCondition[])[];
}

const boundCache = new WeakMap<ResolvedRules, BoundRules>();

/** The resolved rules' conditions bound to this context's columns (once per analysis). */
function bound(ctx: Context, resolved: ResolvedRules): BoundRules {
  let b = boundCache.get(resolved);
  if (!b || b.ctx !== ctx) {
    b = { ctx, conditions: resolved.rules.map((r, i) => r.conditions.map((c, k) => new BoundCondition(ctx, c, resolved.thresholds[i][k]))) };
    boundCache.set(resolved, b);
  }
  return b;
}

const repeatCache = new WeakMap<Context, Int32Array>();

/**
 * One number per row for (source, destination, port): the address pair is made a dense code first,
 * so the key stays exact (below 2^53) however many addresses there are; a missing address (-1) is a
 * value of its own, not another address's.
 */
function repeatKeys(ctx: Context): Float64Array {
  const keys = new Float64Array(ctx.n);
  const port = (i: number) => (ctx.dport ? ctx.dport[i] & 0xffff : 0);
  if (!ctx.src || !ctx.dst) {
    for (let i = 0; i < ctx.n; i++) keys[i] = port(i);
    return keys;
  }
  const width = ctx.addresses.length + 1;
  for (let i = 0; i < ctx.n; i++) keys[i] = (ctx.src[i] + 1) * width + (ctx.dst[i] + 1);
  const pairs = denseCodesOf(keys).codes;
  for (let i = 0; i < ctx.n; i++) keys[i] = pairs[i] * 65536 + port(i);
  return keys;
}

/** Flows sharing this row's source, destination and port (or its port alone without addresses). */
export function repeatCount(ctx: Context, row: number): number {
  let repeats = repeatCache.get(ctx);
  if (!repeats) {
    const { codes, count } = denseCodesOf(repeatKeys(ctx));
    const counts = new Int32Array(count);
    for (let i = 0; i < ctx.n; i++) counts[codes[i]]++;
    repeats = new Int32Array(ctx.n);
    for (let i = 0; i < ctx.n; i++) repeats[i] = counts[codes[i]];
    repeatCache.set(ctx, repeats);
  }
  return repeats[row];
}

const privacyCache = new WeakMap<Context, Map<number, boolean | null>>();

export function isInternal(ctx: Context, code: number): boolean | null {
  let cache = privacyCache.get(ctx);
  if (!cache) {
    cache = new Map();
    privacyCache.set(ctx, cache);
  }
  let v = cache.get(code);
  if (v === undefined) {
    v = isPrivate(ctx.addresses[code]);
    cache.set(code, v);
  }
  return v;
}

function isInternalToExternal(ctx: Context, src: number, dst: number): boolean | null {
  const a = isInternal(ctx, src);
  const b = isInternal(ctx, dst);
  if (a === null || b === null) return null;
  return a && !b;
}

export const METRIC_NAMES: Record<Metric, string> = {
  bytes: CANONICAL.bytes,
  packets: CANONICAL.packets,
  duration: CANONICAL.duration,
  bpp: CANONICAL.bytesPerPacket,
  pps: CANONICAL.packetsPerSecond,
  retrans: CANONICAL.retransmissionRate,
};

/** Types one anomalous flow from its values and explanation. */
export function typeFlow(ctx: Context, resolved: ResolvedRules, row: number, explanation: Explanation | undefined): Typing {
  const top = explanation?.contributions[0];
  // Scores first (numbers only); the reason text is written for the chosen rule alone.
  const rules = resolved.rules;
  const boundConditions = bound(ctx, resolved).conditions;
  let bestRule = -1;
  let bestHeld = 0;
  let bestScore = 0;
  let bestSignature = false;
  for (let r = 0; r < rules.length; r++) {
    const rule = rules[r];
    const conditions = boundConditions[r];
    let score = 0;
    let total = 0;
    let held = 0;
    let gated = false;
    for (let k = 0; k < conditions.length; k++) {
      const c = conditions[k];
      if (c.weight === 0) continue;
      total += c.weight;
      const holds = c.test(ctx, row);
      if (holds !== HOLDS) {
        if (c.required || (holds === FAILS && c.gateWhenKnown)) {
          gated = true;
          break;
        }
        continue;
      }
      score += c.weight;
      held |= 1 << k;
    }
    if (gated || total === 0) continue;
    let s = score / total;
    let signature = false;
    if (top) for (const g of rule.signature) if (g.feature === top.feature && g.direction === top.direction) signature = true;
    if (signature) s = Math.min(1, s + 0.1);
    if (bestRule < 0 || s > bestScore) {
      bestRule = r;
      bestHeld = held;
      bestScore = s;
      bestSignature = signature;
    }
  }
  const chosen = bestRule >= 0 ? rules[bestRule] : null;
  if (chosen && bestScore >= TYPING_THRESHOLD) {
    const reasons: string[] = [];
    const conditions = boundConditions[bestRule];
    for (let k = 0; k < chosen.conditions.length; k++) {
      if ((bestHeld & (1 << k)) === 0) continue;
      const c = chosen.conditions[k];
      if (c.kind === 'above' || c.kind === 'below' || c.kind === 'at-most') {
        const b = conditions[k];
        reasons.push(b.textBefore + fmt(b.values![row]) + b.textAfter);
      } else if (c.kind === 'repeated') {
        reasons.push(`${repeatCount(ctx, row)} ${c.text}`);
      } else if (c.kind === 'port-in' || c.kind === 'rare-port') {
        reasons.push(`port ${ctx.dport![row]}: ${c.text}`);
      } else {
        reasons.push(c.text);
      }
    }
    if (bestSignature) reasons.push(`the detector's main reason is ${top!.feature} ${top!.direction} (${fmt(top!.percentile)}th percentile)`);
    return {
      type: chosen.type,
      technique: chosen.technique,
      confidence: Math.round(bestScore * 100) / 100,
      reason: `${chosen.label}: ${reasons.join('; ')}`,
      rule: bestRule,
      held: bestHeld,
    };
  }
  const why = explanation?.contributions
    .slice(0, 2)
    .map((c) => `${c.feature} ${c.direction} (${fmt(c.value)}, ${fmt(c.percentile)}th percentile)`)
    .join(', ');
  return {
    type: 'untyped',
    technique: null,
    confidence: Math.round((1 - (chosen ? bestScore : 0)) * 50) / 100,
    reason: `unusual, untyped${why ? `: ${why}` : ''}${chosen ? ` (closest: ${chosen.label}, ${Math.round(bestScore * 100)} %)` : ''}`,
    rule: -1,
    held: 0,
  };
}
