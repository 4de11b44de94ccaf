import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { IsolationForest } from '../../src/detection/isolation-forest.ts';

const DIR = new URL('../fixtures/sklearn/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

describe('scikit-learn parity (trees fitted by sklearn 1.9.1, loaded into our scorer)', () => {
  test('there are at least the four required fixture cases', () => {
    assert.ok(files.length >= 4, `found ${files.join(', ')}`);
    for (const name of ['random_auto', 'contamination_0.1', 'duplicates_constant', 'max_samples_features']) {
      assert.ok(files.includes(`${name}.json`), `missing ${name}.json`);
    }
  });

  for (const file of files) {
    const fx = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
    test(`${fx.case}: every score to 1e-12, offset and predictions exact`, () => {
      const forest = IsolationForest.fromSklearn(fx);
      assert.equal(forest.offset, fx.offset_);
      assert.equal(forest.maxSamples, fx.max_samples_);
      for (const part of ['train', 'test'] as const) {
        const X: number[][] = fx[part].X;
        const m = { data: Float64Array.from(X.flat()), rows: X.length, cols: X[0].length };
        const scores = forest.scoreSamples(m);
        const decision = forest.decisionFunction(m);
        const predict = forest.predict(m);
        for (let i = 0; i < X.length; i++) {
          assert.ok(Math.abs(scores[i] - fx[part].score_samples[i]) <= 1e-12, `${part} score ${i}: ${scores[i]} vs ${fx[part].score_samples[i]}`);
          assert.ok(Math.abs(decision[i] - fx[part].decision_function[i]) <= 1e-12, `${part} decision ${i}`);
          assert.equal(predict[i], fx[part].predict[i], `${part} predict ${i}`);
        }
      }
    });

    if (typeof fx.params.contamination === 'number') {
      test(`${fx.case}: our offset from sklearn's training scores equals offset_ (numpy linear percentile)`, () => {
        const forest = IsolationForest.fromSklearn(fx);
        // Reuse the loaded forest with the case's contamination.
        const json = forest.toJSON();
        const withC = IsolationForest.fromJSON({ ...json, params: { ...json.params, contamination: fx.params.contamination } });
        withC.setOffsetFromScores(Float64Array.from(fx.train.score_samples));
        assert.ok(Math.abs(withC.offset - fx.offset_) <= 1e-12, `${withC.offset} vs ${fx.offset_}`);
      });
    }
  }

  test('the duplicate/constant case never splits on the constant column', () => {
    const fx = JSON.parse(readFileSync(new URL('duplicates_constant.json', DIR), 'utf8'));
    const forest = IsolationForest.fromSklearn(fx);
    for (const t of forest.trees) for (const f of t.feature) assert.notEqual(f, 2);
  });
});
