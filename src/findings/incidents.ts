/**
 * Incidents: findings grouped by type, actor (source), target (destination) — or port and protocol
 * when the data has no addresses — and time window (a gap longer than the type's window splits).
 */
import type { AttackType, FindingsInput, Incident, LegacyRecommendation } from './types.ts';
import type { Context } from './context.ts';
import { KeyIndex, orderByValueDesc, timeOrder } from './context.ts';
import { TYPE_CODES } from './behaviour.ts';
import { buildMitigation } from './mitigations.ts';
import { incidentEvidence } from './evidence.ts';
import { isInternal } from './rules.ts';
import type { ResolvedRules } from './rules.ts';
import type { ExplanationIndex } from './explanations.ts';

/**
 * The rows with a finding, in row order, as columns (struct of arrays): index k is the k-th finding.
 * `type` codes index TYPE_CODES; actor/target are address codes, -1 = many/unknown.
 */
export class RowFindings {
  count = 0;
  readonly row: Int32Array;
  readonly type: Int8Array;
  readonly confidence: Float64Array;
  readonly actor: Int32Array;
  readonly target: Int32Array;
  readonly detector: Uint8Array;
  /** Typing rule index (into the resolved rules) whose shape the flow matched, -1 for none. */
  readonly rule: Int16Array;
  /** Bit k set when condition k of that rule held. */
  readonly held: Int32Array;
  /** 1 when the type comes from the rule alone (no behaviour detector agreeing). */
  readonly byRule: Uint8Array;
  /** Behaviour reason (index into `hitReasons`) behind the type, -1 for none. */
  readonly hit: Int32Array;
  /** 1 when the rule's attack lacked corroboration and the flow is reported as untyped. */
  readonly uncorroborated: Uint8Array;
  /** Slot of the finding's explanation in the analysis' ExplanationIndex, -1 for none. */
  readonly slot: Int32Array;
  /** What an uncorroborated finding's part showed, by finding (SUPPORT_MEASURES values: flows, sources, ports, target rate, bytes; NaN = not measured). */
  readonly support = new Map<number, Float64Array>();
  readonly technique: (string | null)[] = [];
  readonly reason: string[] = [];
  hitReasons: readonly { readonly text: string }[] = [];
  private readonly gathered = new Map<Float64Array | Int32Array, Float64Array | Int32Array>();

  constructor(capacity: number) {
    this.row = new Int32Array(capacity);
    this.type = new Int8Array(capacity);
    this.confidence = new Float64Array(capacity);
    this.actor = new Int32Array(capacity);
    this.target = new Int32Array(capacity);
    this.detector = new Uint8Array(capacity);
    this.rule = new Int16Array(capacity);
    this.held = new Int32Array(capacity);
    this.byRule = new Uint8Array(capacity);
    this.hit = new Int32Array(capacity);
    this.uncorroborated = new Uint8Array(capacity);
    this.slot = new Int32Array(capacity).fill(-1);
  }

  /**
   * `values[row[k]]` for every finding k, gathered once per column after the last push: one streaming
   * pass (the rows ascend), then the incidents read small finding-indexed arrays instead of missing
   * the cache in million-row columns for every member.
   */
  column(values: Float64Array): Float64Array;
  column(values: Int32Array): Int32Array;
  column(values: Float64Array | Int32Array): Float64Array | Int32Array {
    let c = this.gathered.get(values);
    if (!c) {
      c = values instanceof Int32Array ? gatherInts(values, this.row, this.count) : gatherNumbers(values, this.row, this.count);
      this.gathered.set(values, c);
    }
    return c;
  }

  /** `rule`/`held`: the typing rule the flow matched; `byRule`: the type is the rule's alone; `hit`: the behaviour reason behind it. */
  push(
    row: number,
    type: number,
    confidence: number,
    technique: string | null,
    actor: number,
    target: number,
    reason: string,
    detector: boolean,
    rule = -1,
    held = 0,
    byRule = false,
    hit = -1,
  ): void {
    const k = this.count++;
    this.row[k] = row;
    this.type[k] = type;
    this.confidence[k] = confidence;
    this.actor[k] = actor;
    this.target[k] = target;
    this.detector[k] = detector ? 1 : 0;
    this.rule[k] = rule;
    this.held[k] = held;
    this.byRule[k] = byRule ? 1 : 0;
    this.hit[k] = hit;
    this.technique.push(technique);
    this.reason.push(reason);
  }
}

/** `values[rows[k]]` for k < count (one loop per array type: each stays monomorphic). */
function gatherNumbers(values: Float64Array, rows: Int32Array, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) out[k] = values[rows[k]];
  return out;
}

function gatherInts(values: Int32Array, rows: Int32Array, count: number): Int32Array {
  const out = new Int32Array(count);
  for (let k = 0; k < count; k++) out[k] = values[rows[k]];
  return out;
}

/** Severity weight of each type (how bad it is when confirmed). */
export const TYPE_SEVERITY: Record<AttackType, number> = {
  data_exfiltration: 90,
  ddos: 85,
  beaconing: 80,
  brute_force: 75,
  port_scan: 65,
  protocol_misuse: 55,
  untyped: 35,
};

/** A gap longer than this (ms) between flows of one group starts a new incident. */
const GAP_MS: Record<AttackType, number> = {
  data_exfiltration: 4 * 3_600_000,
  ddos: 30 * 60_000,
  beaconing: Infinity,
  brute_force: 60 * 60_000,
  port_scan: 60 * 60_000,
  protocol_misuse: 60 * 60_000,
  untyped: 60 * 60_000,
};

const TITLES: Record<AttackType, string> = {
  ddos: 'Volumetric flood (DDoS)',
  port_scan: 'Port / host scan',
  brute_force: 'Brute force on an authentication service',
  data_exfiltration: 'Data exfiltration',
  beaconing: 'Beaconing (command and control)',
  protocol_misuse: 'Protocol or port misuse',
  untyped: 'Unusual traffic (untyped)',
};

export interface IncidentOptions {
  readonly expiryMinutes: number;
  readonly now: number;
  /** The rules the findings were typed with (for the per-flow evidence summary). */
  readonly rules: ResolvedRules;
  /** The detector's explanations, indexed (for the evidence's feature summaries). */
  readonly explained: ExplanationIndex;
}

const UNTYPED = TYPE_CODES.indexOf('untyped');

/**
 * Findings split into the parts that become incidents. Part p is the findings
 * `members[start[p] .. start[p + 1])`, in time order; `of[k]` is the part of finding k.
 */
export interface Parts {
  readonly count: number;
  readonly members: Int32Array;
  readonly start: readonly number[];
  readonly of: Int32Array;
}

/** The findings in time order ((time || 0), then index): the same for every partition of them. */
const findingsByTime = new WeakMap<RowFindings, Uint32Array>();

/**
 * Groups the findings by type, actor and target (or type, port and protocol), then splits each group
 * where a gap is longer than the type's window. Grouping keys are integers, groups are ordered by
 * first appearance, and members are put in time order by timeOrder, then grouped by a counting sort.
 */
export function partition(ctx: Context, found: RowFindings): Parts {
  const m = found.count;
  const { group, count: groupCount } = groupCodes(ctx, found);
  // Members of each group in time order ((time || 0), then row), as comparing the rows would give.
  const time = ctx.time ? found.column(ctx.time) : null;
  let byTime = findingsByTime.get(found);
  if (!byTime) {
    let keys: Float64Array | null = null;
    if (time) {
      keys = new Float64Array(m); // a loop: Float64Array.from with a map function is several times slower
      for (let k = 0; k < m; k++) keys[k] = time[k] || 0;
    }
    findingsByTime.set(found, (byTime = keys ? timeOrder(keys) : identity(m)));
  }
  const { start: gStart, members } = membersByGroup(group, groupCount, byTime);
  // Parts: a gap longer than the type's window splits a group. Part p is members[partStart[p] .. partStart[p + 1]).
  const partStart = splitParts(found, gStart, groupCount, members, time);
  const partCount = partStart.length;
  partStart.push(m);
  const partOf = new Int32Array(m);
  for (let p = 0; p < partCount; p++) for (let x = partStart[p]; x < partStart[p + 1]; x++) partOf[members[x]] = p;
  return { count: partCount, members, start: partStart, of: partOf };
}

/** Group code per finding, in order of first appearance: type, actor and target, or type, port and protocol. */
function groupCodes(ctx: Context, found: RowFindings): { group: Int32Array; count: number } {
  const m = found.count;
  const hasAddr = ctx.src !== null && ctx.dst !== null;
  const nA = ctx.addresses.length + 1;
  const protoSpan = ctx.protocolNames.length + 1;
  const groupIndex = new KeyIndex(256);
  const portIndex = new KeyIndex(256);
  const group = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const t = found.type[k];
    let key: number;
    if (hasAddr && t !== UNTYPED) key = (t * nA + found.actor[k] + 1) * nA + found.target[k] + 1;
    else {
      // Negative keys: type, port (NaN is one port, as its text is) and protocol code.
      const row = found.row[k];
      const port = ctx.dport ? ctx.dport[row] : -1;
      const pc = port === port ? portIndex.add(port) : -1;
      const proto = ctx.protocolCode ? ctx.protocolCode[row] : -1;
      key = -1 - (((pc + 1) * protoSpan + proto + 1) * 8 + t);
    }
    group[k] = groupIndex.add(key);
  }
  return { group, count: groupIndex.size };
}

/** The findings grouped (counting sort of `byTime` by group): group g is members[start[g] .. start[g + 1]). */
function membersByGroup(group: Int32Array, groupCount: number, byTime: Uint32Array): { start: Int32Array; members: Int32Array } {
  const m = group.length;
  const start = new Int32Array(groupCount + 1);
  for (let k = 0; k < m; k++) start[group[k] + 1]++;
  for (let g = 0; g < groupCount; g++) start[g + 1] += start[g];
  const fill = start.slice(0, groupCount);
  const members = new Int32Array(m);
  for (let x = 0; x < m; x++) {
    const k = byTime[x];
    members[fill[group[k]]++] = k;
  }
  return { start, members };
}

/** Where parts start: each group, and each gap in it longer than its type's window. */
function splitParts(found: RowFindings, gStart: Int32Array, groupCount: number, members: Int32Array, time: Float64Array | null): number[] {
  const partStart: number[] = [];
  for (let g = 0; g < groupCount; g++) {
    const a = gStart[g];
    const b = gStart[g + 1];
    partStart.push(a);
    if (!time) continue;
    const gap = GAP_MS[TYPE_CODES[found.type[members[a]]]];
    let last = NaN;
    for (let x = a; x < b; x++) {
      const t = time[members[x]];
      if (x > a && Number.isFinite(t) && Number.isFinite(last) && t - last > gap) partStart.push(x);
      if (Number.isFinite(t)) last = t;
    }
  }
  return partStart;
}

/**
 * Incidents from the parts, most severe first. `incidentOf[k]` is the incident index of finding k.
 */
export function buildIncidents(
  ctx: Context,
  input: FindingsInput,
  found: RowFindings,
  parts: Parts,
  opts: IncidentOptions,
): { incidents: Incident[]; incidentOf: Int32Array } {
  const m = found.count;
  const { count: partCount, members, start: partStart, of: partOf } = parts;
  // Rows of each part, most severe first (then by row): one radix sort of all findings by severity rank.
  const sev = input.severity;
  const bySeverity = orderBySeverity(found, sev);
  const sevStart = new Int32Array(partCount + 1);
  for (let k = 0; k < m; k++) sevStart[partOf[k] + 1]++;
  for (let p = 0; p < partCount; p++) sevStart[p + 1] += sevStart[p];
  const sevFill = sevStart.slice(0, partCount);
  const sevRows = new Int32Array(m);
  for (let x = 0; x < m; x++) {
    const k = bySeverity[x];
    sevRows[sevFill[partOf[k]]++] = found.row[k];
  }

  const scratch = new DraftScratch(ctx, input, found);
  // Drafted smallest part first: a draft does not depend on the others, and by the large parts its
  // loops run compiled (a one-off analysis starts with every function cold).
  const bySize = Array.from({ length: partCount }, (_, p) => p).sort((a, b) => partStart[a + 1] - partStart[a] - (partStart[b + 1] - partStart[b]) || a - b);
  const drafts: Draft[] = new Array(partCount);
  for (const p of bySize) {
    drafts[p] = draftIncident(ctx, input, found, members.subarray(partStart[p], partStart[p + 1]), sevRows.subarray(sevStart[p], sevStart[p + 1]), p, scratch, opts);
  }
  drafts.sort((a, b) => b.severity - a.severity || b.flowCount - a.flowCount || a.rows[0] - b.rows[0]);
  const incidentOfPart = new Int32Array(partCount);
  const incidents: Incident[] = drafts.map((d, k) => {
    const id = `INC-${String(k + 1).padStart(3, '0')}`;
    incidentOfPart[d.part] = k;
    const { scope, part: _part, ...rest } = d;
    return { ...rest, id, mitigation: buildMitigation({ ...scope, id, expiryMinutes: opts.expiryMinutes, now: opts.now }) };
  });
  const incidentOf = new Int32Array(m);
  for (let k = 0; k < m; k++) incidentOf[k] = incidentOfPart[partOf[k]];
  return { incidents, incidentOf };
}

function identity(m: number): Uint32Array {
  const order = new Uint32Array(m);
  for (let k = 0; k < m; k++) order[k] = k;
  return order;
}

/** Findings ordered by severity (|| 0) descending, then row. */
function orderBySeverity(found: RowFindings, sev: Float64Array): Uint32Array {
  const m = found.count;
  const values = new Float64Array(m);
  const column = found.column(sev);
  for (let k = 0; k < m; k++) values[k] = column[k] || 0;
  return orderByValueDesc(values);
}

/** Per-analysis counters reused by every draft (reset through their touched lists), and the finding-indexed columns the drafts read. */
class DraftScratch {
  readonly addrCount: Int32Array;
  readonly portCount = new Int32Array(65536);
  readonly protoSeen: Int32Array;
  readonly severity: Float64Array;
  readonly bytes: Float64Array | null;
  readonly time: Float64Array | null;
  readonly src: Int32Array | null;
  readonly dst: Int32Array | null;
  readonly dport: Float64Array | null;
  readonly protocol: Int32Array | null;
  constructor(ctx: Context, input: FindingsInput, found: RowFindings) {
    this.addrCount = new Int32Array(ctx.addresses.length);
    this.protoSeen = new Int32Array(ctx.protocolNames.length).fill(-1);
    this.severity = found.column(input.severity);
    this.bytes = ctx.metrics.bytes ? found.column(ctx.metrics.bytes) : null;
    this.time = ctx.time ? found.column(ctx.time) : null;
    this.src = ctx.src ? found.column(ctx.src) : null;
    this.dst = ctx.dst ? found.column(ctx.dst) : null;
    this.dport = ctx.dport ? found.column(ctx.dport) : null;
    this.protocol = ctx.protocolCode ? found.column(ctx.protocolCode) : null;
  }
}

/** What one pass over a part's members (in time order) adds up. */
interface MemberStats {
  bytes: number;
  first: number;
  last: number;
  detector: number;
  maxSev: number;
  confSum: number;
  /** Source codes and whole ports in order of first use; their counts are in the scratch counters. */
  readonly srcTouched: number[];
  readonly portTouched: number[];
  /** Ports that are not whole numbers in 0..65535, with their counts. */
  oddPorts: Map<number, number> | null;
  /** Protocol names in order of first use. */
  readonly protos: Set<string>;
  /** Flows per technique, in order of first use. */
  readonly techCount: Map<string, number>;
}

/**
 * The per-flow sums of one part: a tight loop of its own, so that it is what gets optimized, not the
 * sentence writing around it.
 */
function memberStats(ctx: Context, found: RowFindings, members: Int32Array, part: number, scratch: DraftScratch): MemberStats {
  const { addrCount, portCount, protoSeen, severity: sev, bytes: bytesCol, time, src, dport, protocol: protoCode } = scratch;
  const m: MemberStats = { bytes: 0, first: Infinity, last: -Infinity, detector: 0, maxSev: 0, confSum: 0, srcTouched: [], portTouched: [], oddPorts: null, protos: new Set(), techCount: new Map() };
  let { bytes, first, last, detector, maxSev, confSum } = m;
  // Techniques counted by runs (a part's flows mostly share one): a Map update per run, not per flow.
  let runTech: string | null = null;
  let run = 0;
  for (let x = 0; x < members.length; x++) {
    const k = members[x];
    if (bytesCol && Number.isFinite(bytesCol[k])) bytes += bytesCol[k];
    if (time) {
      const t = time[k];
      if (Number.isFinite(t)) {
        if (t < first) first = t;
        if (t > last) last = t;
      }
    }
    if (found.detector[k]) detector++;
    maxSev = Math.max(maxSev, sev[k] || 0);
    confSum += found.confidence[k];
    if (src && src[k] >= 0) {
      if (addrCount[src[k]]++ === 0) m.srcTouched.push(src[k]);
    }
    if (dport && Number.isFinite(dport[k])) {
      const p = dport[k];
      if (p >= 0 && p <= 65535 && p === Math.floor(p)) {
        if (portCount[p]++ === 0) m.portTouched.push(p + 0);
      } else {
        m.oddPorts ??= new Map();
        m.oddPorts.set(p, (m.oddPorts.get(p) ?? 0) + 1);
      }
    }
    if (protoCode && protoCode[k] >= 0 && protoSeen[protoCode[k]] !== part) {
      protoSeen[protoCode[k]] = part;
      m.protos.add(ctx.protocolNames[protoCode[k]]);
    }
    const tech = found.technique[k];
    if (tech !== runTech) {
      if (runTech) m.techCount.set(runTech, (m.techCount.get(runTech) ?? 0) + run);
      runTech = tech;
      run = 0;
    }
    run++;
  }
  if (runTech) m.techCount.set(runTech, (m.techCount.get(runTech) ?? 0) + run);
  m.bytes = bytes;
  m.first = first;
  m.last = last;
  m.detector = detector;
  m.maxSev = maxSev;
  m.confSum = confSum;
  return m;
}

/** A plain array of the values. */
function numbers(values: Int32Array): number[] {
  const out: number[] = new Array(values.length);
  for (let x = 0; x < values.length; x++) out[x] = values[x];
  return out;
}

/** Destination codes of a part in order of first use; their counts go into `counts`. */
function countDestinations(dst: Int32Array, members: Int32Array, counts: Int32Array): number[] {
  const touched: number[] = [];
  for (let x = 0; x < members.length; x++) {
    const d = dst[members[x]];
    if (d >= 0 && counts[d]++ === 0) touched.push(d);
  }
  return touched;
}

type Draft = ReturnType<typeof draftIncident>;

/** Codes with their counts, most frequent first, then by code; resets the counters. */
function byCount(counts: Int32Array, touched: number[], odd: Map<number, number> | null): number[] {
  if (!odd) {
    // Whole codes below counts.length: one numeric sort of (most - count) × span + code, no comparator.
    const span = counts.length;
    let most = 0;
    for (const c of touched) if (counts[c] > most) most = counts[c];
    if ((most + 1) * span < 2 ** 53) {
      const keys = new Float64Array(touched.length);
      for (let x = 0; x < touched.length; x++) {
        const c = touched[x];
        keys[x] = (most - counts[c]) * span + c;
        counts[c] = 0;
      }
      keys.sort();
      const out: number[] = new Array(keys.length);
      for (let x = 0; x < keys.length; x++) out[x] = keys[x] % span;
      return out;
    }
  }
  const entries: [number, number][] = touched.map((c) => [c, counts[c]]);
  for (const c of touched) counts[c] = 0;
  if (odd) for (const e of odd) entries.push(e);
  entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return entries.map(([k]) => k);
}

/**
 * One incident from one part: `members` are finding indices in time order, `sevRows` the part's rows
 * most severe first.
 */
function draftIncident(ctx: Context, input: FindingsInput, found: RowFindings, members: Int32Array, sevRows: Int32Array, part: number, scratch: DraftScratch, opts: IncidentOptions) {
  const k0 = members[0];
  const type = TYPE_CODES[found.type[k0]];
  const rows = numbers(sevRows);
  const { bytes, first, last, detector, maxSev, confSum, srcTouched, portTouched, oddPorts, protos, techCount } = memberStats(ctx, found, members, part, scratch);
  // Sources and destinations share one counter array: sources are counted first, then destinations.
  const srcCodes = byCount(scratch.addrCount, srcTouched, null);
  const dstCodes = scratch.dst ? byCount(scratch.addrCount, countDestinations(scratch.dst, members, scratch.addrCount), null) : [];
  const destinationPorts = byCount(scratch.portCount, portTouched, oddPorts);
  // Untyped findings group by port and protocol: an actor or target is named only when all share it.
  const untyped = type === 'untyped';
  const actor = untyped ? (srcCodes.length === 1 ? srcCodes[0] : -1) : found.actor[k0];
  const target = untyped ? (dstCodes.length === 1 ? dstCodes[0] : -1) : found.target[k0];

  // The attacker / target lead their lists (a scan's replies outnumber its probes, for example).
  const lead = (codes: number[], first: number) => (first >= 0 && codes.includes(first) ? [first, ...codes.filter((c) => c !== first)] : codes);
  const sourceCodes = lead(srcCodes, actor);
  const destinationCodes = lead(dstCodes, target);
  const sourceIps = sourceCodes.map((c) => ctx.addresses[c]);
  const destinationIps = destinationCodes.map((c) => ctx.addresses[c]);
  const n = members.length;
  const confidence = Math.round((confSum / n) * 100) / 100;
  const volume = Math.min(1, 0.6 + 0.1 * Math.log2(n));
  const severity = Math.max(0, Math.min(100, Math.round(TYPE_SEVERITY[type] * (0.5 + 0.5 * confidence) * volume + 0.1 * Math.max(0, maxSev - 50))));

  // Techniques: the most common one among the rows.
  const technique = [...techCount.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;

  const portText = `${destinationPorts.slice(0, 3).join(', ')}${destinationPorts.length > 3 ? ', …' : ''}${protos.size ? `/${[...protos].join('/').toLowerCase()}` : ''}`;
  const addressed = sourceIps.length > 0 || destinationIps.length > 0;
  const where = addressed
    ? `${actor >= 0 ? ctx.addresses[actor] : sourceIps.length === 1 ? sourceIps[0] : `${sourceIps.length} sources`} → ${target >= 0 ? ctx.addresses[target] : destinationIps.length === 1 ? destinationIps[0] : `${destinationIps.length} hosts`}${untyped && destinationPorts.length > 0 ? ` (port ${portText})` : ''}`
    : `port ${portText}`;
  // Extra spread the title does not already say (a scan's replies come from its target, for example).
  const spread: string[] = [];
  if (sourceIps.length > 1 && (actor >= 0 || !addressed)) spread.push(`${sourceIps.length} distinct sources`);
  if (destinationPorts.length > 1) spread.push(`${destinationPorts.length} distinct destination ports (${destinationPorts.slice(0, 10).join(', ')}${destinationPorts.length > 10 ? ', …' : ''})`);
  const evidence = incidentEvidence(ctx, opts.explained, found, members, opts.rules, { n, bytes, first, last, where, spread, detector, maxSev });
  const title = `${TITLES[type]}: ${where}`;

  // Mitigation scope: who attacks, who is hit, which remote end receives data.
  const attackers: string[] = [];
  const victims: string[] = [];
  const remote: string[] = [];
  if (type === 'port_scan' || type === 'brute_force') {
    attackers.push(actor >= 0 ? ctx.addresses[actor] : sourceIps[0] ?? '');
    victims.push(...(target >= 0 ? [ctx.addresses[target]] : destinationIps.slice(0, 50)));
  } else if (type === 'ddos') {
    victims.push(...(target >= 0 ? [ctx.addresses[target]] : destinationIps.slice(0, 5)));
    attackers.push(...sourceIps.slice(0, 200));
  } else if (type === 'data_exfiltration' || type === 'beaconing' || type === 'protocol_misuse') {
    for (let x = 0; x < sourceCodes.length && victims.length < 20; x++) if (isInternal(ctx, sourceCodes[x]) !== false) victims.push(ctx.addresses[sourceCodes[x]]);
    for (let x = 0; x < destinationCodes.length && remote.length < 20; x++) if (isInternal(ctx, destinationCodes[x]) !== true) remote.push(ctx.addresses[destinationCodes[x]]);
  }
  return {
    part,
    type,
    title,
    technique,
    confidence,
    severity,
    firstSeen: Number.isFinite(first) ? first : null,
    lastSeen: Number.isFinite(last) ? last : null,
    flowCount: n,
    bytes,
    sourceIps,
    destinationIps,
    destinationPorts,
    protocols: [...protos].sort(),
    rows,
    evidence,
    scope: { type, attackers: attackers.filter(Boolean), victims, remote, ports: destinationPorts.slice(0, 20), protocols: [...protos] },
  };
}

const LEGACY_NAMES: Record<AttackType, string> = {
  ddos: 'DDOS',
  port_scan: 'PORT_SCAN',
  brute_force: 'BRUTE_FORCE',
  data_exfiltration: 'DATA_EXFILTRATION',
  beaconing: 'BEACONING',
  protocol_misuse: 'PROTOCOL_MISUSE',
  untyped: 'GENERAL',
};

/** The original /analyze recommendation shape, one per attack type present, most severe first. */
export function legacyRecommendations(incidents: readonly Incident[]): LegacyRecommendation[] {
  const byType = new Map<AttackType, Incident[]>();
  for (const inc of incidents) {
    let l = byType.get(inc.type);
    if (!l) byType.set(inc.type, (l = []));
    l.push(inc);
  }
  return [...byType.entries()]
    .map(([type, list]) => {
      const top = list[0]; // incidents are already most severe first
      const flows = list.reduce((s, i) => s + i.flowCount, 0);
      const severity: LegacyRecommendation['severity'] = top.severity >= 70 ? 'HIGH' : top.severity >= 40 ? 'MEDIUM' : 'LOW';
      return {
        sev: top.severity,
        rec: {
          type: LEGACY_NAMES[type],
          description: `${list.length} ${TITLES[type].toLowerCase()} incident${list.length === 1 ? '' : 's'} (${flows} flows); most severe ${top.id}: ${top.title}`,
          severity,
          recommendations: [top.mitigation.summary, ...top.mitigation.steps],
        },
      };
    })
    .sort((a, b) => b.sev - a.sev)
    .map((x) => x.rec);
}
