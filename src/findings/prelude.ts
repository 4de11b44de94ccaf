/**
 * The findings work that needs the flow table alone (no scores, anomalies, severity or
 * explanations): the context and its baselines, the time order, every behaviour detector and the
 * timeline's flow counts. A pipeline makes it while the detector scores (prepareFindings) and hands
 * it to analyzeFindings; analyzeFindings makes it itself when not given one. Either way the
 * findings are the same.
 */
import type { FlowTable } from '../ingest/types.ts';
import type { FindingsOptions } from './index.ts';
import type { PeriodicPattern } from './types.ts';
import type { Context } from './context.ts';
import { buildContext, releaseScratch, timeOrder } from './context.ts';
import { DEFAULT_BEHAVIOUR, detectBeacons, detectBruteForce, detectExfiltration, detectFloods, detectScans, Hits, releaseCandidates } from './behaviour.ts';
import type { BehaviourOptions } from './behaviour.ts';
import { bindRules, repeatCounts, resolveRules, TYPING_RULES } from './rules.ts';
import type { ResolvedRules, TypingRule } from './rules.ts';
import { rateTotals } from './support.ts';
import type { RateTotals } from './support.ts';
import { timeline } from './time.ts';
import type { Timeline } from './time.ts';

/** What prepareFindings made; read only (analyzeFindings may be given the same prelude twice). */
export interface FindingsPrelude {
  /** The table it was made from, and the options it was made with (analyzeFindings checks them). */
  readonly table: FlowTable;
  readonly behaviour: BehaviourOptions;
  readonly rules: readonly TypingRule[];
  readonly ctx: Context;
  /** Row indices in time order; null without a time column. */
  readonly order: Uint32Array | null;
  /** Every behaviour detector's hits, and the beacon detector's periodic patterns. */
  readonly hits: Hits;
  readonly periodic: readonly PeriodicPattern[];
  /** The rules' thresholds against the data's baseline. */
  readonly resolved: ResolvedRules;
  /** Every target's packets over the data, when a rule's corroboration measures a rate. */
  readonly rates: RateTotals | null;
  /** Flows per time bucket, hour and day; null without usable times. */
  readonly timeline: Timeline | null;
}

/**
 * Everything findings can do before the detector's scores exist (synchronous; the table is only
 * read). Takes the `behaviour` and `rules` of FindingsOptions (the rest are not needed yet): pass
 * analyzeFindings the same ones.
 */
export function prepareFindings(input: { readonly table: FlowTable }, options: Pick<FindingsOptions, 'behaviour' | 'rules'> = {}): FindingsPrelude {
  const { table } = input;
  const ctx = buildContext(table);
  const behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  const order = ctx.time ? timeOrder(ctx.time) : null;

  const hits = new Hits(ctx.n);
  detectScans(ctx, hits, order);
  let periodic: PeriodicPattern[] = [];
  if (order) {
    detectFloods(ctx, hits, order, behaviour);
    periodic = detectBeacons(ctx, hits, order, behaviour);
  }
  detectBruteForce(ctx, hits, order, behaviour);
  detectExfiltration(ctx, hits);

  const rules = options.rules ?? TYPING_RULES;
  const resolved = resolveRules(ctx, rules);
  bindRules(ctx, resolved);
  // The repeat counts a 'repeated' condition reads (the pair-port codes, or port codes without
  // addresses), and the totals a rate corroboration divides by, made now rather than after typing.
  if (rules.some((r) => r.conditions.some((c) => c.kind === 'repeated'))) repeatCounts(ctx);
  const rates = order && rules.some((r) => r.corroboration?.rateFactor !== undefined) ? rateTotals(ctx) : null;
  // What only the detectors read: their candidate lists, scratch codes and pair codes (the repeat
  // counts keep the two columns of the pair codes they need).
  releaseCandidates(ctx);
  releaseScratch(ctx);
  return { table, behaviour, rules, ctx, order, hits, periodic, resolved, rates, timeline: ctx.time ? timeline(ctx.time, order) : null };
}

/**
 * The prelude for an analysis: the one given, after checking it was made from this table with these
 * behaviour options, or a new one. A prelude made with other rules keeps its detectors' work, with
 * the rules resolved again.
 */
export function preludeFor(table: FlowTable, given: FindingsPrelude | undefined, options: FindingsOptions): FindingsPrelude {
  if (!given) return prepareFindings({ table }, options);
  if (given.table !== table) throw new Error('analyzeFindings: the prelude was prepared from another table');
  const behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  for (const key of Object.keys(behaviour) as (keyof BehaviourOptions)[]) {
    if (!Object.is(behaviour[key], given.behaviour[key])) {
      throw new Error(`analyzeFindings: the prelude was prepared with behaviour.${key} = ${given.behaviour[key]}, the analysis asks for ${behaviour[key]}`);
    }
  }
  const rules = options.rules ?? TYPING_RULES;
  if (rules === given.rules) return given;
  // Rate totals made for other rules are still the data's (the probe sums them itself when absent).
  return { ...given, rules, resolved: resolveRules(given.ctx, rules) };
}

