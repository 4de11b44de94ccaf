/**
 * Incident evidence as an analyst would write it: one sentence per kind of evidence, never one per
 * flow. The window and volume; what the behaviour detectors saw (with their baseline comparison);
 * the per-flow rule conditions summarised as ranges; why a rule's attack is not claimed when its
 * volume is missing; the detector's view (how many flows it flagged, for which feature).
 */
import type { FindingsInput } from './types.ts';
import type { Context, Metric } from './context.ts';
import type { RowFindings } from './incidents.ts';
import type { Condition, ResolvedRules, TypingRule } from './rules.ts';
import { fmt, METRIC_NAMES, repeatCount } from './rules.ts';

export interface EvidenceFrame {
  readonly n: number;
  readonly bytes: number;
  readonly first: number; // epoch ms, Infinity when unknown
  readonly last: number;
  /** "a → b" as the title says it. */
  readonly where: string;
  /** Spread the title does not say (distinct sources, ports). */
  readonly spread: readonly string[];
  readonly detector: number;
  readonly maxSev: number;
}

/** Support measures stored per uncorroborated finding (RowFindings.support, SUPPORT_MEASURES per finding). */
export const SUPPORT_MEASURES = 5;
export const SUPPORT_FLOWS = 0;
export const SUPPORT_SOURCES = 1;
export const SUPPORT_PORTS = 2;
export const SUPPORT_RATE = 3;
export const SUPPORT_BYTES = 4;

export const fmtBytes = (b: number): string =>
  b >= 1e9 ? `${(b / 1e9).toFixed(2)} GB` : b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : b >= 1e3 ? `${(b / 1e3).toFixed(1)} kB` : `${b} B`;
export const fmtSpan = (ms: number): string => {
  const s = ms / 1000;
  return s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;
};
export const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

/** A size with three significant digits: 35.5 MB, 182 MB, 5.53 MB. */
const fmtSize = (b: number): string => {
  const a = Math.abs(b);
  const [d, u] = a >= 1e9 ? [1e9, 'GB'] : a >= 1e6 ? [1e6, 'MB'] : a >= 1e3 ? [1e3, 'kB'] : [1, 'B'];
  return d === 1 ? `${Math.round(b)} B` : `${Number((b / d).toPrecision(3))} ${u}`;
};

const fmtMetric = (metric: Metric, v: number): string => (metric === 'bytes' ? fmtSize(v) : metric === 'duration' ? `${fmt(v)} s` : fmt(v));

const range = (lo: number, hi: number, f: (v: number) => string): string => (lo === hi ? f(lo) : `${f(lo)}–${f(hi)}`);

const ordinal = (q: number): string => {
  const p = Number((q * 100).toPrecision(3));
  if (p === 50) return 'median';
  const r10 = p % 10;
  const r100 = p % 100;
  const suffix = r10 === 1 && r100 !== 11 ? 'st' : r10 === 2 && r100 !== 12 ? 'nd' : r10 === 3 && r100 !== 13 ? 'rd' : 'th';
  return `${p}${suffix} percentile`;
};

const capitalise = (s: string): string => (s ? s[0].toUpperCase() + s.slice(1) : s);
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
const sentence = (s: string): string => capitalise(s.endsWith('.') ? s : `${s}.`);

/** Per rule: how many flows it typed, and per condition how many held with the range of values. */
interface RuleTally {
  readonly rule: number;
  count: number;
  uncorroborated: number; // 1 when the rule's attack was not claimed (of the first flow: a part's flows share it)
  readonly held: Int32Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly ports: Set<number>[];
  /** Of the uncorroborated flows: the largest support measures and whether they differ. */
  readonly supportMax: Float64Array;
  supportVaries: boolean;
  targets: Set<number>;
}

export function incidentEvidence(ctx: Context, input: FindingsInput, found: RowFindings, members: Int32Array, rules: ResolvedRules, frame: EvidenceFrame): string[] {
  const { n } = frame;
  const out: string[] = [];

  // 1. Window and volume.
  const when = Number.isFinite(frame.first)
    ? frame.first === frame.last
      ? ` at ${iso(frame.first)}`
      : ` from ${iso(frame.first)} to ${iso(frame.last)} (${fmtSpan(frame.last - frame.first)})`
    : '';
  out.push(`${plural(n, 'flow')} (${fmtBytes(frame.bytes)})${when}: ${frame.where}${frame.spread.length ? `; ${frame.spread.join(', ')}` : ''}.`);

  // Tallies over the members: behaviour reasons, rules (with ranges), the detector's top features.
  const hitCount = new Map<number, number>();
  const tallies = new Map<number, RuleTally>();
  // Keyed by feature, one map per direction: no "feature direction" string is built per flow.
  const features = new FeatureMap<{ count: number; lo: number; hi: number; pct: number }>();
  const topFeatures = new FeatureMap<{ count: number }>();
  let untypedFlows = 0;
  for (let x = 0; x < members.length; x++) {
    const k = members[x];
    const row = found.row[k];
    if (found.hit[k] >= 0) hitCount.set(found.hit[k], (hitCount.get(found.hit[k]) ?? 0) + 1);
    const explanation = found.detector[k] ? input.explanations.get(row) : undefined;
    const top = explanation?.contributions[0];
    if (top) {
      const t = topFeatures.get(top.feature, top.direction);
      if (t) t.count++;
      else topFeatures.set(top.feature, top.direction, { count: 1 });
    }
    const r = found.rule[k];
    if (r >= 0) {
      tallyRule(ctx, rules, tallies, found, k, r);
    } else if (found.detector[k] && found.hit[k] < 0) {
      // No rule and no behaviour: what the detector saw is all there is.
      untypedFlows++;
      const contributions = explanation?.contributions ?? [];
      for (let j = 0; j < contributions.length && j < 2; j++) {
        const c = contributions[j];
        const f = features.get(c.feature, c.direction);
        if (f) {
          f.count++;
          f.lo = Math.min(f.lo, c.value);
          f.hi = Math.max(f.hi, c.value);
          f.pct = c.direction === 'low' ? Math.min(f.pct, c.percentile) : Math.max(f.pct, c.percentile);
        } else features.set(c.feature, c.direction, { count: 1, lo: c.value, hi: c.value, pct: c.percentile });
      }
    }
  }

  // 2. Behaviour: each distinct reason once (its text carries the baseline comparison).
  const hitsSorted = [...hitCount.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  for (const [h, c] of hitsSorted.slice(0, 3)) out.push(sentence(`${found.hitReasons[h].text}${hitsSorted.length > 1 ? ` (${plural(c, 'flow')})` : ''}`));

  // 3. Per-flow rule conditions as ranges; 4. why an attack is not claimed.
  for (const t of [...tallies.values()].sort((a, b) => b.count - a.count || a.rule - b.rule)) {
    const rule = rules.rules[t.rule];
    const clauses = ruleClauses(rules, t);
    if (clauses.length) {
      const shape = t.uncorroborated === 1 ? `${rule.label} shape` : rule.label;
      const who = t.count === n ? (n === 1 ? 'the flow' : 'per flow') : `${t.count} of ${n} flows`;
      out.push(sentence(`${shape}, ${who}: ${clauses.join('; ')}`));
    }
    if (t.uncorroborated > 0 && rule.corroboration) out.push(verdict(ctx, rule, t));
  }
  if (untypedFlows > 0 && features.size > 0) {
    const list = features.entries().sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    const parts = list.map(([key, f]) =>
      untypedFlows === 1
        ? `${key} (${fmt(f.lo)}, ${fmt(f.pct)}th percentile)`
        : `${key} in ${f.count} (${range(f.lo, f.hi, fmt)}, ${key.endsWith(' low') ? 'down' : 'up'} to the ${fmt(f.pct)}th percentile)`,
    );
    const which = untypedFlows === 1 ? (n === 1 ? 'the flow' : 'one flow') : untypedFlows === n ? `the ${n} flows` : `${untypedFlows} of the flows`;
    out.push(sentence(`no attack rule fits ${which}; what sets ${untypedFlows === 1 ? 'it' : 'them'} apart: ${parts.join(', ')}`));
  }

  // 5. The detector's view.
  const top = topFeatures
    .entries()
    .map(([key, t]): [string, number] => [key, t.count])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  const d = frame.detector;
  if (d === 0) out.push(`All ${n} flows look normal one by one: found by behaviour analysis.`);
  else if (n === 1) out.push(`The Isolation Forest flagged the flow (severity ${Math.round(frame.maxSev)})${top ? `, mainly for ${top[0]}` : ''}.`);
  else {
    const why = top ? `, most often for ${top[0]} (${top[1] === d ? (d === 1 ? 'the flow' : `all ${d}`) : `${top[1]} of them`})` : '';
    out.push(`${d} of ${n} flows flagged by the Isolation Forest (highest severity ${Math.round(frame.maxSev)})${why}${d < n ? `; ${n - d} found by behaviour analysis only` : ''}.`);
  }
  return [...new Set(out)];
}

/**
 * Values per (feature, direction) of explanations, without building a key string per flow; entries()
 * gives "feature direction" keys (callers sort them, so the order of first use does not matter).
 */
class FeatureMap<V> {
  private readonly byDirection = new Map<string, Map<string, V>>();

  get(feature: string, direction: string): V | undefined {
    return this.byDirection.get(direction)?.get(feature);
  }

  set(feature: string, direction: string, value: V): void {
    let m = this.byDirection.get(direction);
    if (!m) this.byDirection.set(direction, (m = new Map()));
    m.set(feature, value);
  }

  get size(): number {
    let n = 0;
    for (const m of this.byDirection.values()) n += m.size;
    return n;
  }

  entries(): [string, V][] {
    const out: [string, V][] = [];
    for (const [direction, m] of this.byDirection) for (const [feature, v] of m) out.push([`${feature} ${direction}`, v]);
    return out;
  }
}

function tallyRule(ctx: Context, rules: ResolvedRules, tallies: Map<number, RuleTally>, found: RowFindings, k: number, r: number): void {
  const nc = rules.rules[r].conditions.length;
  let t = tallies.get(r);
  if (!t) {
    t = {
      rule: r,
      count: 0,
      uncorroborated: found.uncorroborated[k],
      held: new Int32Array(nc),
      lo: new Float64Array(nc).fill(Infinity),
      hi: new Float64Array(nc).fill(-Infinity),
      ports: [],
      supportMax: new Float64Array(SUPPORT_MEASURES).fill(NaN),
      supportVaries: false,
      targets: new Set(),
    };
    tallies.set(r, t);
  }
  t.count++;
  const row = found.row[k];
  const conditions = rules.rules[r].conditions;
  const held = found.held[k];
  for (let c = 0; c < nc; c++) {
    if ((held & (1 << c)) === 0) continue;
    t.held[c]++;
    const cond = conditions[c];
    let v = NaN;
    if (cond.kind === 'above' || cond.kind === 'below' || cond.kind === 'at-most') v = ctx.metrics[cond.metric]?.[row] ?? NaN;
    else if (cond.kind === 'repeated') v = repeatCount(ctx, row);
    else if ((cond.kind === 'port-in' || cond.kind === 'rare-port') && ctx.dport) {
      const ports = (t.ports[c] ??= new Set());
      if (ports.size < 6) ports.add(ctx.dport[row]);
    }
    if (v < t.lo[c]) t.lo[c] = v;
    if (v > t.hi[c]) t.hi[c] = v;
  }
  if (found.uncorroborated[k] > 0) {
    for (let s = 0; s < SUPPORT_MEASURES; s++) {
      const v = found.support[SUPPORT_MEASURES * k + s];
      const prev = t.supportMax[s];
      if (Number.isNaN(prev)) t.supportMax[s] = v;
      else if (v !== prev && !(Number.isNaN(v) && Number.isNaN(prev))) {
        t.supportVaries = true;
        if (v > prev) t.supportMax[s] = v;
      }
    }
    if (t.targets.size < 2) t.targets.add(found.target[k]);
  }
}

/** The rule's conditions that held, each once, with the range of values over the flows. */
function ruleClauses(rules: ResolvedRules, t: RuleTally): string[] {
  const rule = rules.rules[t.rule];
  const th = rules.thresholds[t.rule];
  const out: string[] = [];
  rule.conditions.forEach((c: Condition, k) => {
    const held = t.held[k];
    if (held === 0) return;
    const q = t.count === 1 ? '' : held === t.count ? 'all ' : `${held} of ${t.count} `;
    const ports = t.ports[k] ? [...t.ports[k]].join(', ') : '';
    switch (c.kind) {
      case 'above':
      case 'below': {
        const f = (v: number) => fmtMetric(c.metric, v);
        const rel = `${c.kind} ${c.factor && c.factor !== 1 ? `${c.factor}× ` : ''}the ${ordinal(c.quantile)} (${f(th[k])})`;
        out.push(`${METRIC_NAMES[c.metric]} ${range(t.lo[k], t.hi[k], f)}, ${q}${rel}`);
        break;
      }
      case 'at-most': {
        const f = (v: number) => fmtMetric(c.metric, v);
        out.push(`${METRIC_NAMES[c.metric]} ${range(t.lo[k], t.hi[k], f)}, ${q}at most ${f(c.value)}`);
        break;
      }
      case 'repeated':
        out.push(`${range(t.lo[k], t.hi[k], fmt)} ${c.text}`);
        break;
      case 'port-in':
      case 'rare-port':
        out.push(`${q}to ${c.text}${ports ? ` (${ports})` : ''}`);
        break;
      default:
        out.push(`${q}${c.text}`);
    }
  });
  return out;
}

/** Why the rule's attack is not claimed: what its flows showed against what the attack needs. */
function verdict(ctx: Context, rule: TypingRule, t: RuleTally): string {
  const need = rule.corroboration!;
  const s = t.supportMax;
  const most = t.supportVaries ? 'at most ' : '';
  const target = t.targets.size === 1 ? [...t.targets][0] : -1;
  const per = t.targets.size > 1 ? ' per target' : t.supportVaries ? ' at a time' : '';
  const shown: string[] = [`${most}${plural(s[SUPPORT_FLOWS], 'such flow')}${target >= 0 ? ` to ${ctx.addresses[target]}` : ''}${per}`];
  if (need.minSources !== undefined && !Number.isNaN(s[SUPPORT_SOURCES])) shown.push(`from ${plural(s[SUPPORT_SOURCES], 'source')}`);
  if (need.minPorts !== undefined && !Number.isNaN(s[SUPPORT_PORTS])) shown.push(`on ${plural(s[SUPPORT_PORTS], 'port')}`);
  if (need.rateFactor !== undefined && !Number.isNaN(s[SUPPORT_RATE])) shown.push(`at ${fmt(s[SUPPORT_RATE])}× the target's usual packet rate`);
  if (need.bytesFactor !== undefined && !Number.isNaN(s[SUPPORT_BYTES])) shown.push(`${fmt(s[SUPPORT_BYTES])}× the 99th percentile of bytes in all`);
  const alternatives: string[] = [];
  if (need.minSources !== undefined) alternatives.push(`${need.minSources} sources`);
  if (need.minPorts !== undefined) alternatives.push(`${need.minPorts} ports`);
  if (need.rateFactor !== undefined) alternatives.push(`${need.rateFactor}× the usual packet rate`);
  if (need.bytesFactor !== undefined) alternatives.push(`${need.bytesFactor}× the 99th percentile of bytes`);
  const flows = need.minFlows > 1 ? `at least ${need.minFlows} such flows` : '';
  const needs = [flows, alternatives.join(' or ')].filter(Boolean).join(' and ');
  return `Not claimed as ${need.claim}: ${shown.join(', ')} (${need.claim} needs ${needs} when no behaviour detector agrees); reported as unusual, untyped.`;
}
