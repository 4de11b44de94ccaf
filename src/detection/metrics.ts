/** Evaluation helpers (pure). */

/**
 * ROC AUC of anomaly scores against labels (1 = anomaly), where HIGHER `anomalyScore` means more
 * anomalous (pass the negated score_samples). Ties get average ranks (Mann–Whitney U), as sklearn's
 * roc_auc_score. NaN when one class is absent.
 */
export function rocAuc(anomalyScore: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = anomalyScore.length;
  if (labels.length !== n) throw new Error(`rocAuc: ${n} scores but ${labels.length} labels`);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const keys = Float64Array.from(anomalyScore as ArrayLike<number>);
  order.sort((a, b) => keys[a] - keys[b]);
  let pos = 0;
  let rankSum = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && keys[order[j + 1]] === keys[order[i]]) j++;
    const avgRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        pos++;
        rankSum += avgRank;
      }
    }
    i = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return NaN;
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
