/**
 * Detection quality on real labelled data: ODDS http (KDD Cup 99), fit and scored on all rows, as in
 * the Isolation Forest paper. scikit-learn 1.2.1, mean ROC AUC over seeds 0-9: 0.9996.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { AnomalyModel } from '../../src/detection/model.ts';
import { rocAuc } from '../../src/detection/metrics.ts';
import { closeScorePool } from '../../src/detection/pool.ts';

after(() => closeScorePool());

const HTTP = new URL('../../../shared/datasets/odds/http.csv', import.meta.url);
const SKLEARN_HTTP_AUC = 0.9996;

function readOdds(url: URL): { columns: Float64Array[]; labels: Uint8Array } {
  const lines = readFileSync(url, 'utf8').split('\n').filter((l) => l.length > 0);
  const n = lines.length - 1;
  const columns = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = lines[i + 1].split(',');
    columns[0][i] = Number(p[0]);
    columns[1][i] = Number(p[1]);
    columns[2][i] = Number(p[2]);
    labels[i] = Number(p[3]);
  }
  return { columns, labels };
}

test('rocAuc: perfect, inverted, ties', () => {
  assert.equal(rocAuc([0.1, 0.2, 0.9, 0.8], [0, 0, 1, 1]), 1);
  assert.equal(rocAuc([0.9, 0.8, 0.1, 0.2], [0, 0, 1, 1]), 0);
  assert.equal(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5);
  assert.equal(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75); // sklearn's roc_auc_score example
});

test('http.csv: mean ROC AUC over seeds 0-9 within 0.005 of scikit-learn', { skip: existsSync(HTTP) ? false : `shared dataset absent: ${HTTP.pathname}` }, async () => {
  const { columns, labels } = readOdds(HTTP);
  assert.equal(labels.length, 567_498);
  const aucs: number[] = [];
  for (let seed = 0; seed < 10; seed++) {
    const { scores } = await AnomalyModel.fit(['f0', 'f1', 'f2'], columns, { randomState: seed }, { workers: 2 });
    aucs.push(rocAuc(scores.map((s) => -s), labels));
  }
  const mean = aucs.reduce((a, b) => a + b, 0) / aucs.length;
  assert.ok(Math.abs(mean - SKLEARN_HTTP_AUC) <= 0.005, `mean AUC ${mean} (per seed ${aucs.map((a) => a.toFixed(4)).join(', ')})`);
});
