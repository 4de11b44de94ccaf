/** The scatter axes from packed explanations (the pipeline's) are those from the same explanations as objects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseAxes } from '../../src/analysis/index.ts';
import { ExplanationSet } from '../../src/detection/index.ts';

/** n rows over features a, b, c, d, each row's weights ranked (largest first), from a small generator. */
function set(n: number, seed: number): ExplanationSet {
  const features = ['a', 'b', 'c', 'd'];
  const k = features.length;
  let s = seed;
  const next = () => (s = (s * 16807) % 2147483647) / 2147483647;
  const feature = new Int32Array(n * k);
  const weight = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    const w = features.map(() => next());
    const total = w.reduce((x, y) => x + y, 0);
    const order = features.map((_, c) => c).sort((x, y) => w[y] - w[x]);
    order.forEach((c, j) => {
      feature[i * k + j] = c;
      weight[i * k + j] = w[c] / total;
    });
  }
  return new ExplanationSet(features, Int32Array.from({ length: n }, (_, i) => i), new Float64Array(k), {
    feature,
    weight,
    value: new Float64Array(n * k),
    percentile: new Float64Array(n * k),
    high: new Uint8Array(n * k),
  });
}

describe('chooseAxes from packed explanations', () => {
  it('when anomalies are explained, then the axes are those the objects give, for any feature list', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const packed = set(500, seed);
      const objects = packed.toArray();
      for (const features of [['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a'], ['b', 'x', 'd'], ['c']]) {
        assert.deepEqual(chooseAxes(features, packed), chooseAxes(features, objects), `seed ${seed}, ${features.join(',')}`);
      }
    }
  });

  it('when one feature carries most weight, then it is the first axis', () => {
    const packed = new ExplanationSet(['a', 'b', 'c'], Int32Array.of(7, 8), new Float64Array(3), {
      feature: Int32Array.of(2, 0, 1, 2, 1, 0),
      weight: Float64Array.of(0.8, 0.15, 0.05, 0.5, 0.4, 0.1),
      value: new Float64Array(6),
      percentile: new Float64Array(6),
      high: new Uint8Array(6),
    });
    assert.deepEqual(chooseAxes(['a', 'b', 'c'], packed), ['c', 'b']);
  });

  it('when there are no anomalies, then the first two features', () => {
    const empty = new ExplanationSet(['a', 'b'], new Int32Array(0), new Float64Array(2), {
      feature: new Int32Array(0),
      weight: new Float64Array(0),
      value: new Float64Array(0),
      percentile: new Float64Array(0),
      high: new Uint8Array(0),
    });
    assert.deepEqual(chooseAxes(['a', 'b', 'c'], empty), ['a', 'b']);
  });
});
