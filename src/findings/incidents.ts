/**
 * Incidents: findings grouped by type, actor (source), target (destination) — or port and protocol
 * when the data has no addresses — and time window (a gap longer than the type's window splits).
 */
import type { AttackType, FindingsInput, Incident, LegacyRecommendation } from './types.ts';
import type { Context } from './context.ts';
import { buildMitigation } from './mitigations.ts';
import { isInternal } from './rules.ts';

export interface RowFinding {
  readonly row: number;
  readonly type: AttackType;
  readonly confidence: number;
  readonly technique: string | null;
  readonly actor: number; // address code, -1 = many/unknown
  readonly target: number;
  readonly reason: string;
  readonly detector: boolean;
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

const fmtBytes = (b: number): string =>
  b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`;
const fmtSpan = (ms: number): string => {
  const s = ms / 1000;
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
};
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');

export interface IncidentOptions {
  readonly expiryMinutes: number;
  readonly now: number;
}

export function buildIncidents(ctx: Context, input: FindingsInput, found: readonly RowFinding[], opts: IncidentOptions): { incidents: Incident[]; rowIncident: Map<number, number> } {
  const hasAddr = ctx.src !== null && ctx.dst !== null;
  const groups = new Map<string, RowFinding[]>();
  for (const f of found) {
    let key: string;
    if (hasAddr && f.type !== 'untyped') key = `${f.type}|${f.actor}|${f.target}`;
    else {
      const port = ctx.dport ? ctx.dport[f.row] : -1;
      const proto = ctx.protocolCode ? ctx.protocolCode[f.row] : -1;
      key = `${f.type}|p${port}|${proto}`;
    }
    let list = groups.get(key);
    if (!list) groups.set(key, (list = []));
    list.push(f);
  }
  const time = ctx.time;
  const parts: RowFinding[][] = [];
  for (const list of groups.values()) {
    if (!time) {
      parts.push(list);
      continue;
    }
    list.sort((a, b) => (time[a.row] || 0) - (time[b.row] || 0) || a.row - b.row);
    const gap = GAP_MS[list[0].type];
    let cur: RowFinding[] = [];
    let last = NaN;
    for (const f of list) {
      const t = time[f.row];
      if (cur.length > 0 && Number.isFinite(t) && Number.isFinite(last) && t - last > gap) {
        parts.push(cur);
        cur = [];
      }
      cur.push(f);
      if (Number.isFinite(t)) last = t;
    }
    if (cur.length) parts.push(cur);
  }

  const drafts = parts.map((p) => draftIncident(ctx, input, p));
  drafts.sort((a, b) => b.severity - a.severity || b.flowCount - a.flowCount || a.rows[0] - b.rows[0]);
  const rowIncident = new Map<number, number>();
  const incidents: Incident[] = drafts.map((d, k) => {
    const id = `INC-${String(k + 1).padStart(3, '0')}`;
    for (const r of d.rows) rowIncident.set(r, k);
    const { scope, ...rest } = d;
    return { ...rest, id, mitigation: buildMitigation({ ...scope, id, expiryMinutes: opts.expiryMinutes, now: opts.now }) };
  });
  return { incidents, rowIncident };
}

function draftIncident(ctx: Context, input: FindingsInput, part: RowFinding[]) {
  const type = part[0].type;
  const sev = input.severity;
  const rows = part.map((f) => f.row).sort((a, b) => (sev[b] || 0) - (sev[a] || 0) || a - b);
  const bytesCol = ctx.metrics.bytes;
  let bytes = 0;
  let first = Infinity;
  let last = -Infinity;
  let detector = 0;
  let maxSev = 0;
  let confSum = 0;
  const srcs = new Map<number, number>();
  const dsts = new Map<number, number>();
  const ports = new Map<number, number>();
  const protos = new Set<string>();
  for (const f of part) {
    const i = f.row;
    if (bytesCol && Number.isFinite(bytesCol[i])) bytes += bytesCol[i];
    if (ctx.time) {
      const t = ctx.time[i];
      if (Number.isFinite(t)) {
        if (t < first) first = t;
        if (t > last) last = t;
      }
    }
    if (f.detector) detector++;
    maxSev = Math.max(maxSev, sev[i] || 0);
    confSum += f.confidence;
    if (ctx.src && ctx.src[i] >= 0) srcs.set(ctx.src[i], (srcs.get(ctx.src[i]) ?? 0) + 1);
    if (ctx.dst && ctx.dst[i] >= 0) dsts.set(ctx.dst[i], (dsts.get(ctx.dst[i]) ?? 0) + 1);
    if (ctx.dport && Number.isFinite(ctx.dport[i])) ports.set(ctx.dport[i], (ports.get(ctx.dport[i]) ?? 0) + 1);
    if (ctx.protocolCode && ctx.protocolCode[i] >= 0) protos.add(ctx.protocolNames[ctx.protocolCode[i]]);
  }
  const byCount = (m: Map<number, number>) => [...m.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([k]) => k);
  const actor = part[0].actor;
  const target = part[0].target;
  // The attacker / target lead their lists (a scan's replies outnumber its probes, for example).
  const lead = (codes: number[], first: number) => (first >= 0 && codes.includes(first) ? [first, ...codes.filter((c) => c !== first)] : codes);
  const sourceIps = lead(byCount(srcs), actor).map((c) => ctx.addresses[c]);
  const destinationIps = lead(byCount(dsts), target).map((c) => ctx.addresses[c]);
  const destinationPorts = byCount(ports);
  const n = part.length;
  const confidence = Math.round((confSum / n) * 100) / 100;
  const volume = Math.min(1, 0.6 + 0.1 * Math.log2(n));
  const severity = Math.max(0, Math.min(100, Math.round(TYPE_SEVERITY[type] * (0.5 + 0.5 * confidence) * volume + 0.1 * Math.max(0, maxSev - 50))));

  // Techniques: the most common one among the rows.
  const techCount = new Map<string, number>();
  for (const f of part) if (f.technique) techCount.set(f.technique, (techCount.get(f.technique) ?? 0) + 1);
  const technique = [...techCount.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;

  const where =
    sourceIps.length || destinationIps.length
      ? `${actor >= 0 ? ctx.addresses[actor] : sourceIps.length === 1 ? sourceIps[0] : `${sourceIps.length} sources`} → ${target >= 0 ? ctx.addresses[target] : destinationIps.length === 1 ? destinationIps[0] : `${destinationIps.length} hosts`}`
      : `port ${destinationPorts.slice(0, 3).join(', ')}${protos.size ? `/${[...protos].join('/').toLowerCase()}` : ''}`;
  const evidence: string[] = [];
  evidence.push(
    `${n} flow${n === 1 ? '' : 's'} (${fmtBytes(bytes)})${Number.isFinite(first) ? ` from ${iso(first)} to ${iso(last)} (${fmtSpan(last - first)})` : ''}: ${where}.`,
  );
  const reasons = new Map<string, number>();
  for (const f of part) reasons.set(f.reason, (reasons.get(f.reason) ?? 0) + 1);
  for (const [r, c] of [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3)) evidence.push(`${r}${reasons.size > 1 ? ` (${c} flows)` : ''}.`);
  if (destinationPorts.length > 1) evidence.push(`${destinationPorts.length} distinct destination ports (${destinationPorts.slice(0, 10).join(', ')}${destinationPorts.length > 10 ? ', …' : ''}).`);
  if (sourceIps.length > 1) evidence.push(`${sourceIps.length} distinct sources.`);
  evidence.push(
    detector > 0
      ? `${detector} of ${n} flows flagged by the Isolation Forest (highest severity ${Math.round(maxSev)}); ${n - detector} found by behaviour analysis only.`
      : `All ${n} flows look normal one by one: found by behaviour analysis.`,
  );

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
    victims.push(...sourceIps.filter((a) => isInternalText(ctx, a) !== false).slice(0, 20));
    remote.push(...destinationIps.filter((a) => isInternalText(ctx, a) !== true).slice(0, 20));
  }
  return {
    type,
    title: `${TITLES[type]}: ${where}`,
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

function isInternalText(ctx: Context, address: string): boolean | null {
  const code = ctx.addresses.indexOf(address);
  return code >= 0 ? isInternal(ctx, code) : null;
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
