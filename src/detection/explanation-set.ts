/**
 * Explanations of many rows as flat typed arrays: no object per row or per contribution. The model
 * fills one from the trees' credits (AnomalyModel.explainPacked); the pipeline's consumers (findings,
 * the anomaly rows, the scatter axes) read its arrays, and `at(i)` (by position) / `get(row)` (by
 * row, as a Map of explanations answers: code taking either reads both alike) give the same
 * `Explanation` objects `AnomalyModel.explain()` returns, built when asked for.
 *
 * Layout: n explained rows (in the order asked), k = features.length contributions each, in rank
 * order (largest weight first, ties in feature order); contribution j of the i-th row is at i·k + j.
 */
import { normaliseWeights } from './explain.ts';
import { percentileOf } from './preprocess.ts';
import type { Explanation, FeatureContribution, FeatureStats } from './types.ts';

export class ExplanationSet implements Iterable<[number, Explanation]> {
  /** The features, in the model's order; `feature` indexes this list. */
  readonly features: readonly string[];
  /** The explained rows, in the order asked. */
  readonly rows: Int32Array;
  /** Per row and rank (n × k): the feature (index into `features`). */
  readonly feature: Int32Array;
  /** Per row and rank: the feature's weight (a row's weights sum to 1). */
  readonly weight: Float64Array;
  /** Per row and rank: the row's unscaled value (the imputed mean for a missing one). */
  readonly value: Float64Array;
  /** Per row and rank: the value's training percentile, 0..100. */
  readonly percentile: Float64Array;
  /** Per row and rank: 1 when the direction is 'high', 0 when 'low'. */
  readonly high: Uint8Array;
  /** Per feature (in `features` order): the training median. */
  readonly median: Float64Array;
  /** Position of each row (its first, when asked twice), made when first needed. */
  private positions: Map<number, number> | null = null;

  constructor(
    features: readonly string[],
    rows: Int32Array,
    median: Float64Array,
    arrays: { feature: Int32Array; weight: Float64Array; value: Float64Array; percentile: Float64Array; high: Uint8Array },
  ) {
    const n = rows.length * features.length;
    const { feature, weight, value, percentile, high } = arrays;
    if (median.length !== features.length || [feature, weight, value, percentile, high].some((a) => a.length !== n)) {
      throw new RangeError(`ExplanationSet: ${rows.length} rows × ${features.length} features need arrays of ${n} and ${features.length} medians`);
    }
    this.features = features;
    this.rows = rows;
    this.median = median;
    this.feature = feature;
    this.weight = weight;
    this.value = value;
    this.percentile = percentile;
    this.high = high;
  }

  /**
   * The explanations of `rows` from their credits and values (both rows.length × k, row-major in
   * feature order; the values as the model used them, the imputed mean for a missing one). The
   * credits are normalised here to weights, in place; each row's contributions are ranked, with the
   * value's percentile and direction against the training stats.
   */
  static fromCredits(
    features: readonly string[],
    stats: readonly FeatureStats[],
    rows: ArrayLike<number>,
    values: Float64Array,
    credits: Float64Array,
  ): ExplanationSet {
    const k = features.length;
    const n = rows.length;
    // Percentiles and directions column by column (one feature's quantiles at a time: about twice
    // as fast as row by row), in feature order; then each row's ranked into place.
    const percentiles = new Float64Array(n * k);
    const highs = new Uint8Array(n * k);
    for (let c = 0; c < k; c++) {
      const st = stats[c];
      const median = st.median;
      for (let q = c; q < n * k; q += k) {
        const value = values[q];
        const percentile = percentileOf(st, value);
        percentiles[q] = percentile;
        highs[q] = value > median || (value === median && percentile >= 50) ? 1 : 0;
      }
    }
    const set = new ExplanationSet(features, Int32Array.from(rows), Float64Array.from(stats, (s) => s.median), {
      feature: new Int32Array(n * k),
      weight: new Float64Array(n * k),
      value: new Float64Array(n * k),
      percentile: new Float64Array(n * k),
      high: new Uint8Array(n * k),
    });
    const { feature, weight, value, percentile, high } = set;
    const order = new Int32Array(k);
    for (let o = 0; o < n * k; o += k) {
      normaliseWeights(credits, o, k);
      rankByWeight(credits, o, k, order);
      for (let j = 0; j < k; j++) {
        const q = o + order[j];
        feature[o + j] = order[j];
        weight[o + j] = credits[q];
        value[o + j] = values[q];
        percentile[o + j] = percentiles[q];
        high[o + j] = highs[q];
      }
    }
    return set;
  }

  /** Number of explained rows. */
  get size(): number {
    return this.rows.length;
  }

  /** The i-th explanation (0 <= i < size), as an object. */
  at(i: number): Explanation {
    if (!(i >= 0 && i < this.rows.length)) throw new RangeError(`No explanation ${i} (0..${this.rows.length - 1})`);
    const k = this.features.length;
    const contributions: FeatureContribution[] = [];
    for (let p = i * k; p < (i + 1) * k; p++) {
      const f = this.feature[p];
      contributions.push({
        feature: this.features[f],
        value: this.value[p],
        median: this.median[f],
        percentile: this.percentile[p],
        direction: this.high[p] === 1 ? 'high' : 'low',
        weight: this.weight[p],
      });
    }
    return { row: this.rows[i], contributions };
  }

  /** Whether `row` has an explanation (as ReadonlyMap.has). */
  has(row: number): boolean {
    return this.indexOf(row) >= 0;
  }

  /** The position of `row`'s explanation (its first, if it was asked for twice), -1 when it has none. */
  indexOf(row: number): number {
    if (this.positions === null) {
      const positions = new Map<number, number>();
      for (let i = this.rows.length - 1; i >= 0; i--) positions.set(this.rows[i], i);
      this.positions = positions;
    }
    return this.positions.get(row) ?? -1;
  }

  /** `row`'s explanation, or undefined when it has none (as ReadonlyMap<number, Explanation>.get). */
  get(row: number): Explanation | undefined {
    const i = this.indexOf(row);
    return i < 0 ? undefined : this.at(i);
  }

  /**
   * The position of each of `rows`' explanations (-1 for none). Rows given in the set's own order
   * (the pipeline's case) are matched by one comparison each, so a row the set has twice may be
   * matched to either of its explanations (the model gives a row the same one each time).
   */
  indicesOf(rows: ArrayLike<number>): Int32Array {
    const out = new Int32Array(rows.length);
    for (let k = 0; k < rows.length; k++) out[k] = k < this.rows.length && this.rows[k] === rows[k] ? k : this.indexOf(rows[k]);
    return out;
  }

  /** Every explanation as an object, in order (what AnomalyModel.explain returns). */
  toArray(): Explanation[] {
    return Array.from({ length: this.rows.length }, (_, i) => this.at(i));
  }

  /** [row, explanation] in order, as a Map of explanations iterates. */
  *[Symbol.iterator](): Iterator<[number, Explanation]> {
    for (let i = 0; i < this.rows.length; i++) yield [this.rows[i], this.at(i)];
  }
}

/**
 * Explanations keyed by row as a Map of objects (tests, callers with a few rows) or packed: what the
 * findings and the reports accept.
 */
export type Explanations = ReadonlyMap<number, Explanation> | ExplanationSet;

/**
 * The features of one row (weights w[o .. o + k)) by weight, largest first, keeping feature order
 * among equal weights, into `order`: the order `sort((a, b) => b.weight - a.weight)` gives on the
 * row's contributions in feature order, by an insertion sort that costs far less than a sort call
 * per row. With a NaN weight that comparator is not an order, so the built-in sort decides, as it
 * always did: on the feature indices with the same comparator it makes the same comparisons, hence
 * the same permutation.
 */
function rankByWeight(w: Float64Array, o: number, k: number, order: Int32Array): void {
  for (let c = 0; c < k; c++) {
    if (Number.isNaN(w[o + c])) {
      order.set(Array.from({ length: k }, (_, f) => f).sort((a, b) => w[o + b] - w[o + a]));
      return;
    }
  }
  for (let c = 0; c < k; c++) {
    const weight = w[o + c];
    let j = c - 1;
    while (j >= 0 && w[o + order[j]] < weight) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = c;
  }
}
