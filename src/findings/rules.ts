/**
 * Per-flow attack typing: a table of rules (data), each a set of weighted conditions with
 * thresholds relative to the data's own baseline (quantiles), and the ATT&CK technique.
 * A rule's score is the weight of its satisfied conditions; required conditions gate the rule.
 * The detector's explanation adds weight when its top feature is one of the rule's signatures.
 */
import type { Explanation } from '../detection/types.ts';
import { CANONICAL } from '../ingest/types.ts';
import type { AttackType } from './types.ts';
import type { AddressKind, Context, Metric } from './context.ts';
import { addressKind, denseCodesOf, pairCodes } from './context.ts';
import { ExplanationIndex, KEPT } from './explanations.ts';
import { fmt } from './format.ts';

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
  /** "; " + textBefore: the condition's reason after another one. */
  readonly textAfterSeparator: string = '';

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
          this.textAfterSeparator = `; ${this.textBefore}`;
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

  /** test() of the first `count` rows listed, into `out`: one loop per kind of condition that is read often. */
  testRows(ctx: Context, rows: Int32Array, count: number, out: Int8Array): void {
    const values = this.values!;
    const th = this.threshold;
    switch (this.op) {
      case OP_ABOVE:
        for (let x = 0; x < count; x++) {
          const v = values[rows[x]];
          out[x] = v !== v ? UNKNOWN : v > th ? HOLDS : FAILS;
        }
        break;
      case OP_BELOW:
        for (let x = 0; x < count; x++) {
          const v = values[rows[x]];
          out[x] = v !== v ? UNKNOWN : v < th ? HOLDS : FAILS;
        }
        break;
      case OP_AT_MOST:
        for (let x = 0; x < count; x++) {
          const v = values[rows[x]];
          out[x] = v !== v ? UNKNOWN : v <= th ? HOLDS : FAILS;
        }
        break;
      case OP_PORT_IN: {
        const dport = ctx.dport!;
        const set = this.portSet!;
        for (let x = 0; x < count; x++) {
          const p = dport[rows[x]];
          out[x] = p >= 0 && p <= 65535 && p === Math.floor(p) ? (set[p] === 1 ? HOLDS : FAILS) : this.test(ctx, rows[x]);
        }
        break;
      }
      case OP_PROTOCOL: {
        const codes = ctx.protocolCode!;
        const match = this.protocolMatch!;
        for (let x = 0; x < count; x++) {
          const code = codes[rows[x]];
          out[x] = code >= 0 && match[code] === 1 ? HOLDS : FAILS;
        }
        break;
      }
      default:
        for (let x = 0; x < count; x++) out[x] = this.test(ctx, rows[x]);
    }
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

/** Binds the resolved rules' conditions to the context's columns now (typing would when first run). */
export function bindRules(ctx: Context, resolved: ResolvedRules): void {
  bound(ctx, resolved);
}

const repeatCache = new WeakMap<Context, { codes: Int32Array; counts: Int32Array }>();

/**
 * Flows sharing this row's source, destination and port (or its port alone without addresses). The
 * (source, destination, port) groups are the context's pair-port codes: a missing address (-1) is a
 * value of its own, not another address's, and the key stays exact however many addresses there are.
 */
export function repeatCount(ctx: Context, row: number): number {
  const repeats = repeatCache.get(ctx) ?? repeatCounts(ctx);
  return repeats.counts[repeats.codes[row]];
}

/** The repeat groups of every row (a code each) and their sizes, made once per context. */
export function repeatCounts(ctx: Context): { codes: Int32Array; counts: Int32Array } {
  let repeats = repeatCache.get(ctx);
  if (!repeats) {
    if (ctx.src && ctx.dst) {
      const pc = pairCodes(ctx);
      repeats = { codes: pc.pairPort, counts: pc.pairPortRows };
    } else {
      const keys = new Float64Array(ctx.n);
      for (let i = 0; i < ctx.n; i++) keys[i] = ctx.dport ? ctx.dport[i] & 0xffff : 0;
      const { codes, count } = denseCodesOf(keys);
      const counts = new Int32Array(count);
      for (let i = 0; i < ctx.n; i++) counts[codes[i]]++;
      repeats = { codes, counts };
    }
    repeatCache.set(ctx, repeats);
  }
  return repeats;
}

const kindCache = new WeakMap<Context, Int8Array>();
/** Per address code: KIND_NOT_WORKED_OUT until asked, then KIND_NOT_IP or an index into KINDS. */
const KIND_NOT_WORKED_OUT = -2;
const KIND_NOT_IP = -1;
const KINDS: readonly AddressKind[] = ['internal', 'external', 'not-a-host'];

/** addressKind of an address code, worked out once per address: null for text that is no IP. */
export function addressKindOf(ctx: Context, code: number): AddressKind | null {
  let cache = kindCache.get(ctx);
  if (!cache) {
    cache = new Int8Array(ctx.addresses.length).fill(KIND_NOT_WORKED_OUT);
    kindCache.set(ctx, cache);
  }
  let k = cache[code];
  if (k === KIND_NOT_WORKED_OUT) {
    const kind = addressKind(ctx.addresses[code]);
    k = cache[code] = kind === null ? KIND_NOT_IP : KINDS.indexOf(kind);
  }
  return k === KIND_NOT_IP ? null : KINDS[k];
}

/**
 * Whether an address code is inside the network (true) or outside (false); null for text that is no
 * IP. Inside are the internal hosts and the addresses that name no host (multicast, broadcast,
 * unspecified): their traffic stays on the local network, so a flow to one is never outbound (a
 * multicast stream is no exfiltration) and none is ever an external end to block.
 */
export function isInternal(ctx: Context, code: number): boolean | null {
  const kind = addressKindOf(ctx, code);
  return kind === null ? null : kind !== 'external';
}

/**
 * Whether a flow goes from an internal host to an external one: false when either end is multicast,
 * broadcast or unspecified (no host there), else null when either address is no IP (the data cannot
 * say).
 */
function isInternalToExternal(ctx: Context, src: number, dst: number): boolean | null {
  const a = addressKindOf(ctx, src);
  const b = addressKindOf(ctx, dst);
  if (a === 'not-a-host' || b === 'not-a-host') return false;
  if (a === null || b === null) return null;
  return a === 'internal' && b === 'external';
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
  const x = new ExplanationIndex(explanation ? new Map([[row, explanation]]) : new Map());
  return typeRows(ctx, resolved, Int32Array.of(row), Int32Array.of(explanation ? 0 : -1), x, signatureMatches(resolved, x)).typing(0);
}

/**
 * Per rule, 1 at each (feature, direction) code of the explanations that is one of the rule's
 * signatures: typing tests a code instead of comparing strings per flow.
 */
export function signatureMatches(resolved: ResolvedRules, x: ExplanationIndex): Uint8Array[] {
  return resolved.rules.map((rule) => {
    const m = new Uint8Array(x.keyCount);
    for (let code = 0; code < x.keyCount; code++) {
      for (const g of rule.signature) if (g.feature === x.features[code] && g.direction === x.directions[code]) m[code] = 1;
    }
    return m;
  });
}

/**
 * typeFlow for many rows at once (`slots[j]`: the explanation slot of `rows[j]`, -1 for none): the
 * scores are made condition by condition over all rows (one tight loop each, the same additions in
 * the same order per row as one row at a time), then `typing(j)` writes row j's reason.
 */
export function typeRows(ctx: Context, resolved: ResolvedRules, rows: Int32Array, slots: Int32Array, x: ExplanationIndex, signatures: readonly Uint8Array[]): Typings {
  const m = rows.length;
  const rules = resolved.rules;
  const boundConditions = bound(ctx, resolved).conditions;
  const top = new Int32Array(m);
  for (let j = 0; j < m; j++) top[j] = slots[j] >= 0 && x.kept[slots[j]] > 0 ? x.key[KEPT * slots[j]] : -1;
  const out = new Typings(ctx, resolved, rows, slots, x);
  const all = new Int32Array(m);
  for (let j = 0; j < m; j++) all[j] = j;
  // Per rule, the rows still in play (not gated), compacted after each condition: most rules' first
  // condition is required and rules most rows out. Scores and bits move with their rows.
  const active = new Int32Array(m);
  const activeRows = new Int32Array(m);
  const score = new Float64Array(m);
  const held = new Int32Array(m);
  const outcome = new Int8Array(m);
  for (let r = 0; r < rules.length; r++) {
    const conditions = boundConditions[r];
    active.set(all);
    activeRows.set(rows);
    score.fill(0);
    held.fill(0);
    let count = m;
    let total = 0;
    for (let k = 0; k < conditions.length; k++) {
      const c = conditions[k];
      if (c.weight === 0) continue;
      total += c.weight;
      c.testRows(ctx, activeRows, count, outcome);
      const gate = c.required ? GATE_UNLESS_HOLDS : c.gateWhenKnown ? GATE_IF_FAILS : GATE_NEVER;
      count = addCondition(outcome, count, gate, c.weight, 1 << k, active, activeRows, score, held);
    }
    if (total > 0) keepBest(out, r, total, count, active, score, held, top, signatures[r]);
  }
  return out;
}

const GATE_NEVER = 0;
const GATE_UNLESS_HOLDS = 1;
const GATE_IF_FAILS = 2;

/**
 * One condition's outcomes for the `count` rows in play: its weight and bit where it holds; rows it
 * gates leave the lists (which stay in order). Returns how many rows remain.
 */
function addCondition(outcome: Int8Array, count: number, gate: number, weight: number, bit: number, active: Int32Array, activeRows: Int32Array, score: Float64Array, held: Int32Array): number {
  let kept = 0;
  for (let x = 0; x < count; x++) {
    const holds = outcome[x];
    if (holds === HOLDS) {
      score[x] += weight;
      held[x] |= bit;
    } else if (gate === GATE_UNLESS_HOLDS || (holds === FAILS && gate === GATE_IF_FAILS)) continue;
    active[kept] = active[x];
    activeRows[kept] = activeRows[x];
    score[kept] = score[x];
    held[kept] = held[x];
    kept++;
  }
  return kept;
}

/** Rule r's score for the rows in play (its signature adds 0.1) replaces the best so far where strictly higher. */
function keepBest(out: Typings, r: number, total: number, count: number, active: Int32Array, score: Float64Array, held: Int32Array, top: Int32Array, sig: Uint8Array): void {
  for (let x = 0; x < count; x++) {
    const j = active[x];
    let s = score[x] / total;
    const signature = top[j] >= 0 && sig[top[j]] === 1;
    if (signature) s = Math.min(1, s + 0.1);
    if (out.rule[j] < 0 || s > out.score[j]) {
      out.rule[j] = r;
      out.held[j] = held[x];
      out.score[j] = s;
      out.signature[j] = signature ? 1 : 0;
    }
  }
}

/** The typings of rows scored by typeRows: the best rule per row (-1: none passed its gates). */
export class Typings {
  readonly rule: Int16Array;
  readonly held: Int32Array;
  readonly score: Float64Array;
  /** 1 when the rule's signature matched the explanation's top feature. */
  readonly signature: Uint8Array;
  private readonly conditions: readonly (readonly BoundCondition[])[];
  /** Constant pieces of reason text, made when first used: per rule, per explanation code. */
  private readonly pieces = { label: [] as string[], closest: [] as string[], main: [] as string[], mainFirst: [] as string[], feature: [] as string[], nextFeature: [] as string[] };

  constructor(
    private readonly ctx: Context,
    private readonly resolved: ResolvedRules,
    private readonly rows: Int32Array,
    private readonly slots: Int32Array,
    private readonly x: ExplanationIndex,
  ) {
    const m = rows.length;
    this.rule = new Int16Array(m).fill(-1);
    this.held = new Int32Array(m);
    this.score = new Float64Array(m);
    this.signature = new Uint8Array(m);
    this.conditions = bound(ctx, resolved).conditions;
  }

  /** The rules the rows were typed with. */
  get rules(): readonly TypingRule[] {
    return this.resolved.rules;
  }

  /** Whether row j is typed (its best rule reached the threshold). */
  typed(j: number): boolean {
    return this.rule[j] >= 0 && this.score[j] >= TYPING_THRESHOLD;
  }

  type(j: number): AttackType {
    return this.typed(j) ? this.resolved.rules[this.rule[j]].type : 'untyped';
  }

  technique(j: number): string | null {
    return this.typed(j) ? this.resolved.rules[this.rule[j]].technique : null;
  }

  confidence(j: number): number {
    const score = this.score[j];
    return this.typed(j) ? Math.round(score * 100) / 100 : Math.round((1 - (this.rule[j] >= 0 ? score : 0)) * 50) / 100;
  }

  /**
   * Row j's reason: the chosen rule's conditions, or why it stays untyped (written when asked for),
   * after `lead` and "; " when given. The pieces (their constant parts made once, see `pieces`) are
   * joined once: one flat string per reason.
   */
  reason(j: number, lead?: string): string {
    const parts: string[] = lead === undefined ? [] : [lead, '; '];
    return this.typed(j) ? this.typedReason(j, parts) : this.untypedReason(j, parts);
  }

  /** The chosen rule's label and the conditions that held, after `parts`. */
  private typedReason(j: number, parts: string[]): string {
    const { ctx, x, pieces } = this;
    const row = this.rows[j];
    const slot = this.slots[j];
    const r = this.rule[j];
    const chosen = this.resolved.rules[r];
    const held = this.held[j];
    const conditions = this.conditions[r];
    parts.push((pieces.label[r] ??= `${chosen.label}: `));
    let first = true;
    for (let k = 0; k < chosen.conditions.length; k++) {
      if ((held & (1 << k)) === 0) continue;
      const c = chosen.conditions[k];
      const sep = first ? '' : '; ';
      if (c.kind === 'above' || c.kind === 'below' || c.kind === 'at-most') {
        const b = conditions[k];
        parts.push(first ? b.textBefore : b.textAfterSeparator, fmt(b.values![row]), b.textAfter);
      } else if (c.kind === 'repeated') {
        parts.push(sep, String(repeatCount(ctx, row)), ' ', c.text);
      } else if (c.kind === 'port-in' || c.kind === 'rare-port') {
        parts.push(sep, 'port ', String(ctx.dport![row]), ': ', c.text);
      } else {
        parts.push(sep, c.text);
      }
      first = false;
    }
    if (this.signature[j] === 1) {
      const code = x.key[KEPT * slot];
      const main = first ? (pieces.mainFirst[code] ??= `the detector's main reason is ${x.keyText(code)} (`) : (pieces.main[code] ??= `; the detector's main reason is ${x.keyText(code)} (`);
      parts.push(main, fmt(x.percentile[KEPT * slot]), 'th percentile)');
    }
    return parts.join('');
  }

  /** Why the row stays untyped: the detector's first two features, as it ranked them, and the closest rule. */
  private untypedReason(j: number, parts: string[]): string {
    const { x, pieces } = this;
    const slot = this.slots[j];
    const r = this.rule[j];
    const chosen = r >= 0 ? this.resolved.rules[r] : null;
    parts.push('unusual, untyped');
    const kept = slot >= 0 ? x.kept[slot] : 0;
    for (let c = 0; c < kept; c++) {
      const at = KEPT * slot + c;
      const code = x.key[at];
      const feature = c === 0 ? (pieces.feature[code] ??= `: ${x.keyText(code)} (`) : (pieces.nextFeature[code] ??= `, ${x.keyText(code)} (`);
      parts.push(feature, fmt(x.value[at]), ', ', fmt(x.percentile[at]), 'th percentile)');
    }
    if (chosen) parts.push((pieces.closest[r] ??= ` (closest: ${chosen.label}, `), String(Math.round(this.score[j] * 100)), ' %)');
    return parts.join('');
  }

  /** Row j's whole typing. */
  typing(j: number): Typing {
    const typed = this.typed(j);
    return {
      type: this.type(j),
      technique: this.technique(j),
      confidence: this.confidence(j),
      reason: this.reason(j),
      rule: typed ? this.rule[j] : -1,
      held: typed ? this.held[j] : 0,
    };
  }
}
