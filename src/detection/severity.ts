/**
 * Severity 0..100 of a row from its score (sklearn's score_samples, in [-1, 0]) and the model's offset.
 *
 * Piecewise linear with fixed anchors, so runs and models are comparable:
 *   score -1 → 100,   score = offset → exactly 50,   score 0 → 0;
 *   s in [-1, offset] maps linearly onto [100, 50], s in (offset, 0] onto (50, 0].
 * It is monotone (non-increasing in the score: lower score = more severe), so anomalies
 * (decision < 0, i.e. score < offset) are exactly the rows with severity > 50. Values outside
 * [-1, 0] are clamped. With contamination 'auto' (offset -0.5) this is simply -100·score.
 */
export function severityOf(score: number, offset: number): number {
  if (Number.isNaN(score)) return NaN;
  const s = score < -1 ? -1 : score > 0 ? 0 : score;
  const o = offset <= -1 ? -1 + Number.EPSILON : offset >= 0 ? -Number.EPSILON : offset;
  if (s <= o) return 50 + (50 * (o - s)) / (o + 1);
  return (50 * s) / o + 0; // + 0 turns -0 into 0
}

/** Severity of every score. */
export function severities(scores: Float64Array, offset: number): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = severityOf(scores[i], offset);
  return out;
}
