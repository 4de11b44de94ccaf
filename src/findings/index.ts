/**
 * Findings: what happened, where, when, how sure, and what to do. Pure: no I/O.
 *   analyzeFindings(input, options?) → Findings
 * Per-flow typing (rules as data), behaviour detectors over all flows, incidents, time analysis,
 * per-incident mitigations and the legacy recommendation list.
 */
import type { AttackType, FindingsInput, Findings, FlowFinding } from './types.ts';
import { buildContext, timeOrder } from './context.ts';
import { DEFAULT_BEHAVIOUR, detectBeacons, detectBruteForce, detectExfiltration, detectFloods, detectScans, Hits, TYPE_CODES } from './behaviour.ts';
import type { BehaviourOptions } from './behaviour.ts';
import { resolveRules, TYPING_RULES, typeFlow } from './rules.ts';
import type { TypingRule } from './rules.ts';
import { buildIncidents, legacyRecommendations } from './incidents.ts';
import type { RowFinding } from './incidents.ts';
import { analyzeTime } from './time.ts';

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
  const ctx = buildContext(input.table);
  const n = ctx.n;
  const behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  const order = ctx.time ? timeOrder(ctx.time) : null;

  const hits = new Hits(n);
  detectScans(ctx, hits, order);
  let periodic: ReturnType<typeof detectBeacons> = [];
  if (order) {
    detectFloods(ctx, hits, order, behaviour);
    periodic = detectBeacons(ctx, hits, order, behaviour);
  }
  detectBruteForce(ctx, hits, order, behaviour);
  detectExfiltration(ctx, hits);

  const resolved = resolveRules(ctx, options.rules ?? TYPING_RULES);
  const found: RowFinding[] = [];
  const flagged = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const det = input.isAnomaly[i] === 1;
    const h = hits.type[i];
    if (!det && h < 0) continue;
    flagged[i] = 1;
    const hitType: AttackType | null = h >= 0 ? TYPE_CODES[h] : null;
    const hitReason = h >= 0 ? hits.reasons[hits.reason[i]] : null;
    const actor = h >= 0 ? hits.actor[i] : ctx.src ? ctx.src[i] : -1;
    const target = h >= 0 ? hits.target[i] : ctx.dst ? ctx.dst[i] : -1;
    if (!det) {
      found.push({ row: i, type: hitType!, confidence: round2(hits.confidence[i]), technique: hitReason!.technique, actor, target, reason: hitReason!.text, detector: false });
      continue;
    }
    const typing = typeFlow(ctx, resolved, i, input.explanations.get(i));
    if (hitType === null) {
      // A flood has many sources: its rule-typed flows group by target only.
      found.push({ row: i, type: typing.type, confidence: typing.confidence, technique: typing.technique, actor: typing.type === 'ddos' ? -1 : actor, target, reason: typing.reason, detector: true });
    } else if (typing.type === hitType) {
      // Detector and behaviour agree: independent evidence raises confidence.
      const c = 1 - (1 - hits.confidence[i]) * (1 - typing.confidence);
      found.push({ row: i, type: hitType, confidence: round2(Math.min(0.99, c)), technique: hitReason!.technique, actor, target, reason: `${hitReason!.text}; ${typing.reason}`, detector: true });
    } else {
      // Behaviour evidence (many flows) outweighs one flow's shape unless the rule is much surer.
      const useRule = typing.type !== 'untyped' && typing.confidence > hits.confidence[i] + 0.2;
      found.push(
        useRule
          ? { row: i, type: typing.type, confidence: typing.confidence, technique: typing.technique, actor: ctx.src ? ctx.src[i] : -1, target: ctx.dst ? ctx.dst[i] : -1, reason: typing.reason, detector: true }
          : { row: i, type: hitType, confidence: round2(hits.confidence[i]), technique: hitReason!.technique, actor, target, reason: hitReason!.text, detector: true },
      );
    }
  }

  const { incidents, rowIncident } = buildIncidents(ctx, input, found, { expiryMinutes: options.blockMinutes ?? 60, now: options.now ?? Date.now() });
  const flows = new Map<number, FlowFinding>();
  for (const f of found) {
    const k = rowIncident.get(f.row);
    flows.set(f.row, {
      row: f.row,
      type: f.type,
      confidence: f.confidence,
      reason: f.reason,
      technique: f.technique,
      incidentId: k === undefined ? null : incidents[k].id,
      source: f.detector ? (hits.type[f.row] >= 0 ? 'both' : 'detector') : 'behaviour',
    });
  }
  return {
    flows,
    incidents,
    time: analyzeTime(ctx.time, flagged, periodic),
    recommendations: legacyRecommendations(incidents),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export { TYPING_RULES, TYPING_THRESHOLD, AUTH_PORTS, SERVICE_PORTS, typeFlow, resolveRules } from './rules.ts';
export type { TypingRule, Condition, Typing } from './rules.ts';
export { DEFAULT_BEHAVIOUR } from './behaviour.ts';
export type { BehaviourOptions } from './behaviour.ts';
export { buildMitigation, safeAddress, safePort, D3FEND } from './mitigations.ts';
export type { MitigationScope } from './mitigations.ts';
export { TYPE_SEVERITY, legacyRecommendations } from './incidents.ts';
export { isPrivateAddress } from './context.ts';
export type * from './types.ts';
