/**
 * Findings: what happened, where, when, how sure, and what to do. Pure: no I/O.
 *   prepareFindings({ table }, options?) → FindingsPrelude   (the table alone: while the detector scores)
 *   analyzeFindings({ ...input, prelude? }, options?) → Findings
 * Per-flow typing (rules as data), behaviour detectors over all flows, corroboration (a rule's
 * many-flow attack needs volume behind it, see support.ts), incidents with evidence sentences
 * (evidence.ts), time analysis, per-incident mitigations and the legacy recommendation list.
 */
import type { AttackType, FindingsInput, Findings } from './types.ts';
import type { Context } from './context.ts';
import { Hits, TYPE_CODES } from './behaviour.ts';
import type { BehaviourOptions } from './behaviour.ts';
import { signatureMatches, typeRows } from './rules.ts';
import type { Typings } from './rules.ts';
import { ExplanationIndex } from './explanations.ts';
import type { TypingRule } from './rules.ts';
import { buildIncidents, legacyRecommendations, partition, RowFindings } from './incidents.ts';
import { corroborate } from './support.ts';
import { FlowFindingMap } from './flows.ts';
import { analyzeTime } from './time.ts';
import { preludeFor } from './prelude.ts';

export interface FindingsOptions {
  /** Typing rules (default TYPING_RULES). */
  readonly rules?: readonly TypingRule[];
  readonly behaviour?: Partial<BehaviourOptions>;
  /** Expiry of generated firewall rules, minutes (default 60). */
  readonly blockMinutes?: number;
  /** Clock for expiry comments (default Date.now()); pass one for reproducible output. */
  readonly now?: number;
}

export function analyzeFindings(input: FindingsInput, options: FindingsOptions = {}): Findings {
  // The work that needs the table alone: given (made while the detector scored), or made now.
  const { ctx, order, hits, periodic, resolved, rates, timeline } = preludeFor(input.table, input.prelude, options);
  const n = ctx.n;

  const { flagged, flaggedCount, detectedRows } = flagRows(input.isAnomaly, hits.type);
  // Every anomalous row typed by the rules at once (condition by condition over the rows).
  const explained = new ExplanationIndex(input.explanations);
  const slots = explained.slotsOf(detectedRows);
  const typings = typeRows(ctx, resolved, detectedRows, slots, explained, signatureMatches(resolved, explained));
  const found = collectFindings(ctx, input.isAnomaly, hits, flagged, flaggedCount, typings, slots);

  // Incidents: parts typed by a rule alone keep its attack only with the volume the attack needs.
  let parts = partition(ctx, found);
  if (corroborate(ctx, found, parts, resolved, order, hits, rates) > 0) parts = partition(ctx, found);
  const { incidents, incidentOf } = buildIncidents(ctx, input, found, parts, { expiryMinutes: options.blockMinutes ?? 60, now: options.now ?? Date.now(), rules: resolved, explained });
  const flows = new FlowFindingMap(n, found, incidentOf, incidents, hits.type);
  return {
    flows,
    incidents,
    // The flagged rows are the findings' rows (one each).
    time: analyzeTime(timeline, ctx.time, found.row.subarray(0, found.count), periodic),
    recommendations: legacyRecommendations(incidents),
  };
}

/** Rows with a finding (detector anomaly or behaviour hit), how many, and the anomalous rows. */
function flagRows(isAnomaly: Uint8Array, hitType: Int8Array): { flagged: Uint8Array; flaggedCount: number; detectedRows: Int32Array } {
  const n = isAnomaly.length;
  const flagged = new Uint8Array(n);
  let flaggedCount = 0;
  let detected = 0;
  for (let i = 0; i < n; i++) {
    const det = isAnomaly[i] === 1;
    if (det || hitType[i] >= 0) {
      flagged[i] = 1;
      flaggedCount++;
      if (det) detected++;
    }
  }
  const detectedRows = new Int32Array(detected);
  for (let i = 0, j = 0; i < n; i++) if (isAnomaly[i] === 1) detectedRows[j++] = i;
  return { flagged, flaggedCount, detectedRows };
}

/**
 * One finding per flagged row, in row order: the behaviour hit's, the rule's (typings of the
 * anomalous rows, in row order, with their explanation slots), or both combined.
 */
function collectFindings(ctx: Context, isAnomaly: Uint8Array, hits: Hits, flagged: Uint8Array, flaggedCount: number, typings: Typings, slots: Int32Array): RowFindings {
  const n = ctx.n;
  const found = new RowFindings(flaggedCount);
  found.hitReasons = hits.reasons;
  const ruleType = Int8Array.from(typings.rules, (rule) => TYPE_CODE[rule.type]);
  const src = ctx.src;
  const dst = ctx.dst;
  for (let i = 0, j = 0; i < n; i++) {
    if (flagged[i] === 0) continue;
    const det = isAnomaly[i] === 1;
    const h = hits.type[i];
    const hitReason = h >= 0 ? hits.reasons[hits.reason(i)] : null;
    const actor = h >= 0 ? hits.actor(i) : src ? src[i] : -1;
    const target = h >= 0 ? hits.target(i) : dst ? dst[i] : -1;
    if (!det) {
      found.push(i, h, round2(hits.confidence(i)), hitReason!.technique, actor, target, hitReason!.text, false, -1, 0, false, hits.reason(i));
      continue;
    }
    // Row i is the j-th anomalous row: its typing is j.
    const t = j++;
    found.slot[found.count] = slots[t];
    const typed = typings.typed(t);
    const type = typed ? ruleType[typings.rule[t]] : UNTYPED;
    const confidence = typings.confidence(t);
    const rule = typed ? typings.rule[t] : -1;
    const held = typed ? typings.held[t] : 0;
    if (h < 0) {
      // A flood has many sources: its rule-typed flows group by target only.
      found.push(i, type, confidence, typings.technique(t), type === DDOS ? -1 : actor, target, typings.reason(t), true, rule, held, true);
    } else if (type === h) {
      // Detector and behaviour agree: independent evidence raises confidence.
      const c = 1 - (1 - hits.confidence(i)) * (1 - confidence);
      found.push(i, h, round2(Math.min(0.99, c)), hitReason!.technique, actor, target, typings.reason(t, hitReason!.text), true, rule, held, false, hits.reason(i));
    } else if (type !== UNTYPED && confidence > hits.confidence(i) + 0.2) {
      // Behaviour evidence (many flows) outweighs one flow's shape unless the rule is much surer.
      found.push(i, type, confidence, typings.technique(t), src ? src[i] : -1, dst ? dst[i] : -1, typings.reason(t), true, rule, held, true);
    } else {
      found.push(i, h, round2(hits.confidence(i)), hitReason!.technique, actor, target, hitReason!.text, true, -1, 0, false, hits.reason(i));
    }
  }
  return found;
}

const TYPE_CODE = Object.fromEntries(TYPE_CODES.map((t, k) => [t, k])) as Record<AttackType, number>;
const DDOS = TYPE_CODE.ddos;
const UNTYPED = TYPE_CODE.untyped;
const round2 = (x: number) => Math.round(x * 100) / 100;

export { TYPING_RULES, TYPING_THRESHOLD, UNCORROBORATED_CONFIDENCE, AUTH_PORTS, SERVICE_PORTS, typeFlow, resolveRules } from './rules.ts';
export type { TypingRule, Condition, Corroboration, Typing } from './rules.ts';
export { DEFAULT_BEHAVIOUR } from './behaviour.ts';
export { prepareFindings } from './prelude.ts';
export type { FindingsPrelude } from './prelude.ts';
export type { BehaviourOptions } from './behaviour.ts';
export { buildMitigation, safeAddress, safePort, D3FEND } from './mitigations.ts';
export type { MitigationScope } from './mitigations.ts';
export { TYPE_SEVERITY, legacyRecommendations } from './incidents.ts';
export { isPrivateAddress } from './context.ts';
export { fmtSize } from './format.ts';
export type * from './types.ts';
