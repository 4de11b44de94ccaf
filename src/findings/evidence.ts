/**
 * Incident evidence as an analyst would write it: one sentence per kind of evidence, never one per
 * flow. The window and volume; what the behaviour detectors saw (with their baseline comparison);
 * the per-flow rule conditions summarised as ranges; why a rule's attack is not claimed when its
 * volume is missing; the detector's view (how many flows it flagged, for which feature).
 */
import type { Context, Metric } from './context.ts';
import type { RowFindings } from './incidents.ts';
import type { Condition, ResolvedRules, TypingRule } from './rules.ts';
import { METRIC_NAMES, repeatCount } from './rules.ts';
import { fmt, fmtDuration, fmtSize, plural } from './format.ts';
import type { ExplanationIndex } from './explanations.ts';
import { KEPT } from './explanations.ts';

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

/** Support measures stored per uncorroborated finding (RowFindings.support: SUPPORT_MEASURES values per finding). */
export const SUPPORT_MEASURES = 5;
export const SUPPORT_FLOWS = 0;
export const SUPPORT_SOURCES = 1;
export const SUPPORT_PORTS = 2;
export const SUPPORT_RATE = 3;
export const SUPPORT_BYTES = 4;

const iso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

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
  /** Per condition: how its value is read (VALUE_*), and the metric column of a metric condition. */
  readonly read: Uint8Array;
  readonly values: readonly (Float64Array | null)[];
}

export function incidentEvidence(ctx: Context, explained: ExplanationIndex, found: RowFindings, members: Int32Array, rules: ResolvedRules, frame: EvidenceFrame): string[] {
  const { n } = frame;
  const out: string[] = [];

  // 1. Window and volume.
  const when = Number.isFinite(frame.first)
    ? frame.first === frame.last
      ? ` at ${iso(frame.first)}`
      : ` from ${iso(frame.first)} to ${iso(frame.last)} (${fmtDuration((frame.last - frame.first) / 1000)})`
    : '';
  out.push(`${plural(n, 'flow')} (${fmtSize(frame.bytes)})${when}: ${frame.where}${frame.spread.length ? `; ${frame.spread.join(', ')}` : ''}.`);

  const { hitCount, tallies, topCount, topTouched, features, untypedFlows } = tallyMembers(ctx, explained, found, members, rules);

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
  if (untypedFlows > 0 && features.touched.length > 0) {
    const entries = features.touched.map((code): [string, { count: number; lo: number; hi: number; pct: number }] => [
      explained.keyText(code),
      { count: features.count[code], lo: features.lo[code], hi: features.hi[code], pct: features.pct[code] },
    ]);
    const list = entries.sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1)).slice(0, 3);
    const parts = list.map(([key, f]) =>
      untypedFlows === 1
        ? `${key} (${fmt(f.lo)}, ${fmt(f.pct)}th percentile)`
        : `${key} in ${f.count} (${range(f.lo, f.hi, fmt)}, ${key.endsWith(' low') ? 'down' : 'up'} to the ${fmt(f.pct)}th percentile)`,
    );
    const which = untypedFlows === 1 ? (n === 1 ? 'the flow' : 'one flow') : untypedFlows === n ? `the ${n} flows` : `${untypedFlows} of the flows`;
    out.push(sentence(`no attack rule fits ${which}; what sets ${untypedFlows === 1 ? 'it' : 'them'} apart: ${parts.join(', ')}`));
  }

  // 5. The detector's view.
  const top = topTouched.map((code): [string, number] => [explained.keyText(code), topCount[code]]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
  const d = frame.detector;
  if (d === 0) out.push(`All ${n} flows look normal one by one: found by behaviour analysis.`);
  else if (n === 1) out.push(`The Isolation Forest flagged the flow (severity ${Math.round(frame.maxSev)})${top ? `, mainly for ${top[0]}` : ''}.`);
  else {
    const why = top ? `, most often for ${top[0]} (${top[1] === d ? (d === 1 ? 'the flow' : `all ${d}`) : `${top[1]} of them`})` : '';
    out.push(`${d} of ${n} flows flagged by the Isolation Forest (highest severity ${Math.round(frame.maxSev)})${why}${d < n ? `; ${n - d} found by behaviour analysis only` : ''}.`);
  }
  return [...new Set(out)];
}

/** What the evidence counts over a part's members. */
interface MemberTallies {
  /** Flows per behaviour reason. */
  readonly hitCount: Map<number, number>;
  readonly tallies: Map<number, RuleTally>;
  /** Flows per top feature of the detector's explanation (by (feature, direction) code), codes in order of first use. */
  readonly topCount: Int32Array;
  readonly topTouched: number[];
  /** The detector's first two features of the flows no rule or behaviour explains. */
  readonly features: FeatureTally;
  readonly untypedFlows: number;
}

/**
 * Tallies over the members: behaviour reasons, rules (with ranges), the detector's top features (by
 * code of the explanation index: no key string per flow). A tight loop of its own, so that it is what
 * gets optimized, not the sentence writing around it.
 */
function tallyMembers(ctx: Context, explained: ExplanationIndex, found: RowFindings, members: Int32Array, rules: ResolvedRules): MemberTallies {
  const hitCount = new Map<number, number>();
  const tallies = new Map<number, RuleTally>();
  const keys = explained.keyCount;
  const topCount = new Int32Array(keys);
  const topTouched: number[] = [];
  const features = new FeatureTally(keys);
  let untypedFlows = 0;
  let lastRule = -1;
  let lastTally: RuleTally | undefined;
  let runHit = -1;
  let run = 0;
  for (let x = 0; x < members.length; x++) {
    const k = members[x];
    const hit = found.hit[k];
    if (hit !== runHit) {
      // Behaviour reasons counted by runs (a part's flows mostly share one).
      if (runHit >= 0) hitCount.set(runHit, (hitCount.get(runHit) ?? 0) + run);
      runHit = hit;
      run = 0;
    }
    run++;
    const slot = found.detector[k] ? found.slot[k] : -1;
    const kept = slot >= 0 ? explained.kept[slot] : 0;
    if (kept > 0) {
      const top = explained.key[KEPT * slot];
      if (topCount[top]++ === 0) topTouched.push(top);
    }
    const r = found.rule[k];
    if (r >= 0) {
      if (r !== lastRule) {
        lastRule = r;
        lastTally = tallies.get(r);
        if (!lastTally) tallies.set(r, (lastTally = newTally(ctx, found, rules, r, found.uncorroborated[k])));
      }
      tallyRule(ctx, lastTally!, found, k);
    } else if (found.detector[k] && found.hit[k] < 0) {
      // No rule and no behaviour: what the detector saw is all there is.
      untypedFlows++;
      for (let j = 0; j < kept; j++) {
        const at = KEPT * slot + j;
        const code = explained.key[at];
        features.add(code, explained.value[at], explained.percentile[at], explained.directions[code] === 'low');
      }
    }
  }
  if (runHit >= 0) hitCount.set(runHit, (hitCount.get(runHit) ?? 0) + run);
  return { hitCount, tallies, topCount, topTouched, features, untypedFlows };
}

/** Per (feature, direction) code: how many flows name it, the range of their values and the extreme percentile. */
class FeatureTally {
  readonly count: Int32Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
  readonly pct: Float64Array;
  /** Codes in order of first use. */
  readonly touched: number[] = [];

  constructor(keys: number) {
    this.count = new Int32Array(keys);
    this.lo = new Float64Array(keys);
    this.hi = new Float64Array(keys);
    this.pct = new Float64Array(keys);
  }

  /** One flow's contribution: the percentile kept is the lowest for a 'low' direction, else the highest. */
  add(code: number, value: number, percentile: number, low: boolean): void {
    if (this.count[code]++ === 0) {
      this.touched.push(code);
      this.lo[code] = value;
      this.hi[code] = value;
      this.pct[code] = percentile;
      return;
    }
    this.lo[code] = Math.min(this.lo[code], value);
    this.hi[code] = Math.max(this.hi[code], value);
    this.pct[code] = low ? Math.min(this.pct[code], percentile) : Math.max(this.pct[code], percentile);
  }
}

/** How tallyRule reads a held condition's value. */
const VALUE_NONE = 0;
const VALUE_METRIC = 1;
const VALUE_REPEATS = 2;
const VALUE_PORT = 3;

const repeatColumns = new WeakMap<RowFindings, Int32Array>();

/** repeatCount of every finding's row, by finding (gathered once: the rows ascend). */
function repeatColumn(ctx: Context, found: RowFindings): Int32Array {
  let c = repeatColumns.get(found);
  if (!c) {
    c = new Int32Array(found.count);
    for (let k = 0; k < found.count; k++) c[k] = repeatCount(ctx, found.row[k]);
    repeatColumns.set(found, c);
  }
  return c;
}

/** A rule's tally; its value columns are finding-indexed (RowFindings.column). */
function newTally(ctx: Context, found: RowFindings, rules: ResolvedRules, r: number, uncorroborated: number): RuleTally {
  const conditions = rules.rules[r].conditions;
  const nc = conditions.length;
  const read = new Uint8Array(nc);
  const values: (Float64Array | null)[] = [];
  for (let c = 0; c < nc; c++) {
    const cond = conditions[c];
    let v: Float64Array | null = null;
    if (cond.kind === 'above' || cond.kind === 'below' || cond.kind === 'at-most') {
      read[c] = VALUE_METRIC;
      const metric = ctx.metrics[cond.metric];
      v = metric ? found.column(metric) : null;
    } else if (cond.kind === 'repeated') read[c] = VALUE_REPEATS;
    else if ((cond.kind === 'port-in' || cond.kind === 'rare-port') && ctx.dport) read[c] = VALUE_PORT;
    values.push(v);
  }
  return {
    rule: r,
    count: 0,
    uncorroborated,
    held: new Int32Array(nc),
    lo: new Float64Array(nc).fill(Infinity),
    hi: new Float64Array(nc).fill(-Infinity),
    ports: [],
    supportMax: new Float64Array(SUPPORT_MEASURES).fill(NaN),
    supportVaries: false,
    targets: new Set(),
    read,
    values,
  };
}

function tallyRule(ctx: Context, t: RuleTally, found: RowFindings, k: number): void {
  t.count++;
  const held = found.held[k];
  const nc = t.held.length;
  for (let c = 0; c < nc; c++) {
    if ((held & (1 << c)) === 0) continue;
    t.held[c]++;
    const read = t.read[c];
    let v = NaN;
    if (read === VALUE_METRIC) v = t.values[c]?.[k] ?? NaN;
    else if (read === VALUE_REPEATS) v = repeatColumn(ctx, found)[k];
    else if (read === VALUE_PORT) {
      const ports = (t.ports[c] ??= new Set());
      if (ports.size < 6) ports.add(found.column(ctx.dport!)[k]);
    }
    if (v < t.lo[c]) t.lo[c] = v;
    if (v > t.hi[c]) t.hi[c] = v;
  }
  if (found.uncorroborated[k] > 0) {
    const measured = found.support.get(k)!;
    for (let s = 0; s < SUPPORT_MEASURES; s++) {
      const v = measured[s];
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
