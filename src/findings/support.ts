/**
 * Corroboration: a typing rule judges one flow, but a flood, a scan or a brute force is many. A part
 * (would-be incident) whose flows were typed by a rule alone, with no behaviour detector agreeing,
 * keeps the rule's attack only when it shows the volume the rule's `corroboration` asks for (enough
 * flows, and sources, ports, bytes or a rate far above the target's own baseline). Otherwise its
 * flows are reported as unusual, untyped, below 0.5 confidence, with the reason.
 */
import type { Context } from './context.ts';
import { destinationGroups, orderedTimes } from './context.ts';
import type { Hits } from './behaviour.ts';
import { TYPE_CODES } from './behaviour.ts';
import type { Parts, RowFindings } from './incidents.ts';
import type { Corroboration, ResolvedRules } from './rules.ts';
import { UNCORROBORATED_CONFIDENCE } from './rules.ts';
import { fmt, plural } from './format.ts';
import { SUPPORT_BYTES, SUPPORT_FLOWS, SUPPORT_MEASURES, SUPPORT_PORTS, SUPPORT_RATE, SUPPORT_SOURCES } from './evidence.ts';

const UNTYPED = TYPE_CODES.indexOf('untyped');
/** The shortest window a rate is measured over. */
const MIN_WINDOW_MS = 60_000;

/**
 * Checks every part typed by rules alone; rewrites the findings of parts without support in place.
 * Returns how many findings changed type (the parts must then be rebuilt).
 */
export function corroborate(ctx: Context, found: RowFindings, parts: Parts, rules: ResolvedRules, order: Uint32Array | null, hits: Hits, totals: RateTotals | null = null): number {
  const { members, start } = parts;
  const nAddr = ctx.addresses.length;
  const stampAddr = new Int32Array(nAddr).fill(-1);
  const stampPort = new Int32Array(65536).fill(-1);
  const rates = order && ctx.time ? new RateProbe(ctx, order, totals) : null;
  // Finding-indexed columns (see RowFindings.column).
  const src = ctx.src ? found.column(ctx.src) : null;
  const dport = ctx.dport ? found.column(ctx.dport) : null;
  let retyped = 0;
  for (let p = 0; p < parts.count; p++) {
    const a = start[p];
    const b = start[p + 1];
    const k0 = members[a];
    if (found.type[k0] === UNTYPED) continue;
    // Any flow typed by behaviour, or by a rule that needs no volume, supports the part.
    let need: Corroboration | undefined;
    let supported = false;
    for (let x = a; x < b && !supported; x++) {
      const k = members[x];
      const c = found.byRule[k] && found.rule[k] >= 0 ? rules.rules[found.rule[k]].corroboration : undefined;
      if (!c) supported = true;
      else need ??= c;
    }
    if (supported || !need) continue;

    const flows = b - a;
    let sources = NaN;
    let ports = NaN;
    let rate = NaN;
    let volume = NaN;
    if (need.minSources !== undefined && ctx.src) {
      sources = 0;
      for (let x = a; x < b; x++) {
        const s = src![members[x]];
        if (s >= 0 && stampAddr[s] !== p) {
          stampAddr[s] = p;
          sources++;
        }
      }
    }
    if (need.minPorts !== undefined && ctx.dport) {
      ports = 0;
      for (let x = a; x < b; x++) {
        const v = dport![members[x]];
        if (v >= 0 && v <= 65535 && stampPort[v | 0] !== p) {
          stampPort[v | 0] = p;
          ports++;
        }
      }
    }
    const bytes = ctx.metrics.bytes ? found.column(ctx.metrics.bytes) : null;
    const q99 = ctx.baseline.q('bytes', 0.99);
    if (need.bytesFactor !== undefined && bytes && q99 > 0) {
      let sum = 0;
      for (let x = a; x < b; x++) {
        const v = bytes[members[x]];
        if (Number.isFinite(v)) sum += v;
      }
      volume = sum / q99;
    }
    // The rate is only worth measuring when the flow count already passes.
    if (need.rateFactor !== undefined && rates && flows >= need.minFlows) rate = rates.ratio(found, members.subarray(a, b));

    const alternatives: boolean[] = [];
    if (need.minSources !== undefined && !Number.isNaN(sources)) alternatives.push(sources >= need.minSources);
    if (need.minPorts !== undefined && !Number.isNaN(ports)) alternatives.push(ports >= need.minPorts);
    if (need.rateFactor !== undefined && !Number.isNaN(rate)) alternatives.push(rate >= need.rateFactor);
    if (need.bytesFactor !== undefined && !Number.isNaN(volume)) alternatives.push(volume >= need.bytesFactor);
    if (flows >= need.minFlows && (alternatives.length === 0 || alternatives.includes(true))) continue;

    // What the part showed, shared by its findings.
    const shown = new Float64Array(SUPPORT_MEASURES);
    shown[SUPPORT_FLOWS] = flows;
    shown[SUPPORT_SOURCES] = sources;
    shown[SUPPORT_PORTS] = ports;
    shown[SUPPORT_RATE] = rate;
    shown[SUPPORT_BYTES] = volume;
    for (let x = a; x < b; x++) {
      const k = members[x];
      const row = found.row[k];
      found.support.set(k, shown);
      retyped++;
      const h = hits.type[row];
      if (h >= 0) {
        // The rule had overruled a behaviour hit of another type: without its volume, the hit stands.
        const reason = hits.reason(row);
        found.type[k] = h;
        found.confidence[k] = Math.round(hits.confidence(row) * 100) / 100;
        found.technique[k] = hits.reasons[reason].technique;
        found.actor[k] = hits.actor(row);
        found.target[k] = hits.target(row);
        found.reason[k] = hits.reasons[reason].text;
        found.byRule[k] = 0;
        found.hit[k] = reason;
        continue;
      }
      const label = rules.rules[found.rule[k]].label;
      const ruleReason = found.reason[k].startsWith(`${label}: `) ? found.reason[k].slice(label.length + 2) : found.reason[k];
      const measured = [plural(flows, 'flow')];
      if (!Number.isNaN(sources) && need.minSources !== undefined) measured.push(plural(sources, 'source'));
      if (!Number.isNaN(ports) && need.minPorts !== undefined) measured.push(plural(ports, 'port'));
      if (!Number.isNaN(rate)) measured.push(`${fmt(rate)}× the target's usual packet rate`);
      if (!Number.isNaN(volume)) measured.push(`${fmt(volume)}× the 99th percentile of bytes`);
      found.type[k] = UNTYPED;
      found.confidence[k] = Math.min(UNCORROBORATED_CONFIDENCE, Math.round(found.confidence[k] * 50) / 100);
      found.technique[k] = null;
      found.actor[k] = ctx.src ? ctx.src[row] : -1;
      found.target[k] = ctx.dst ? ctx.dst[row] : -1;
      found.reason[k] = `${need.plain}, ${flows === 1 ? 'single flow' : `${flows} flows`} (${label} shape, but not ${need.claim}: ${measured.join(', ')}): ${ruleReason}`;
      found.uncorroborated[k] = 1;
    }
  }
  return retyped;
}

/** A flow's weight in a rate: its packets, or 1 when that is missing or not positive. */
function rateWeight(packets: Float64Array | null, i: number): number {
  const w = packets ? packets[i] : 1;
  return Number.isFinite(w) && w > 0 ? w : 1;
}

/**
 * The weight (rateWeight) of every destination address's and every destination port's rows with a
 * time, over the whole data: the denominators of the rate probe, summed in row order.
 */
export interface RateTotals {
  /** By address code; null without both address columns. */
  readonly perAddress: Float64Array | null;
  /** By whole port 0..65535; null without a port column. */
  readonly perPort: Float64Array | null;
}

/** RateTotals in one pass over the rows (null without times); what RateProbe would sum per target. */
export function rateTotals(ctx: Context): RateTotals | null {
  const { time, dst, dport } = ctx;
  if (!time) return null;
  const perAddress = ctx.src && dst ? new Float64Array(ctx.addresses.length) : null;
  const perPort = dport ? new Float64Array(65536) : null;
  sumRates(time, ctx.metrics.packets, dst, dport, perAddress, perPort);
  return { perAddress, perPort };
}

/** The pass of rateTotals (a whole port indexes as an integer). */
function sumRates(time: Float64Array, packets: Float64Array | null, dst: Int32Array | null, dport: Float64Array | null, perAddress: Float64Array | null, perPort: Float64Array | null): void {
  for (let i = 0; i < time.length; i++) {
    if (!Number.isFinite(time[i])) continue;
    const w = rateWeight(packets, i);
    if (perAddress !== null) {
      const d = dst![i];
      if (d >= 0) perAddress[d] += w;
    }
    if (perPort !== null) {
      const port = dport![i];
      if (port >= 0 && port <= 65535 && port === Math.floor(port)) perPort[port | 0] += w;
    }
  }
}

/**
 * A target's packet rate (all its flows, flagged or not) in a part's window against its own average
 * over the data: the window's rows are found by binary search in the time order. The averages'
 * totals (rateTotals) are given (a findings prelude) or made when first needed.
 */
class RateProbe {
  private readonly times: Float64Array;
  private readonly finite: number;
  private readonly span: number;

  constructor(
    private readonly ctx: Context,
    private readonly order: Uint32Array,
    private known: RateTotals | null,
  ) {
    this.times = orderedTimes(ctx.time!, order);
    let f = this.times.length;
    while (f > 0 && !Number.isFinite(this.times[f - 1])) f--;
    this.finite = f;
    this.span = f > 0 ? this.times[f - 1] - this.times[0] : 0;
  }

  private weight(i: number): number {
    return rateWeight(this.ctx.metrics.packets, i);
  }

  /** Rate in the part's window over the target's average rate; NaN when not measurable. */
  ratio(found: RowFindings, part: Int32Array): number {
    const { ctx } = this;
    const time = found.column(ctx.time!);
    const k0 = part[0];
    const row0 = found.row[k0];
    let first = Infinity;
    let last = -Infinity;
    for (let x = 0; x < part.length; x++) {
      const t = time[part[x]];
      if (t < first) first = t;
      if (t > last) last = t;
    }
    if (!Number.isFinite(first) || this.finite === 0) return NaN;
    // The target: its address when the part has one, else its destination port.
    const target = found.target[k0];
    const byAddress = target >= 0 && ctx.dst !== null;
    const port = ctx.dport ? ctx.dport[row0] : NaN;
    if (!byAddress && !(port >= 0 && port <= 65535 && port === Math.floor(port))) return NaN;
    const totals = this.totals();
    const total = byAddress ? totals.perAddress![target] : totals.perPort![port];
    if (!(total > 0)) return NaN;
    const width = Math.max(last - first, MIN_WINDOW_MS);
    const span = Math.max(this.span, width);
    // The target's rows in the window [first, first + width], in time order: an address's own rows
    // (grouped by destination, in time order); a port's among all rows.
    const rows = byAddress ? destinationGroups(ctx, this.order) : null;
    const times = rows ? rows.times! : this.times;
    let lo = rows ? rows.start[target] : 0;
    let hi = rows ? rows.start[target + 1] : this.finite;
    const end = hi;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] < first) lo = mid + 1;
      else hi = mid;
    }
    let inWindow = 0;
    if (rows) {
      for (let x = lo; x < end && times[x] <= first + width; x++) inWindow += this.weight(rows.rows[x]);
    } else {
      const dport = ctx.dport!;
      for (let x = lo; x < end && times[x] <= first + width; x++) {
        const i = this.order[x];
        if (dport[i] === port) inWindow += this.weight(i);
      }
    }
    return inWindow / width / (total / span);
  }

  /** The data's totals: the ones given, or summed when first needed. */
  private totals(): RateTotals {
    return (this.known ??= rateTotals(this.ctx)!);
  }
}
