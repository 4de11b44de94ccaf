/**
 * What findings reads of the detector's explanations (the first two contributions of each: feature,
 * direction, value, percentile), gathered in one pass into typed columns: copied from a packed
 * ExplanationSet (the pipeline's), or read from a map of Explanation objects. Typing and evidence
 * then read numbers by row: following 50,000 scattered explanation objects per row, twice, cost
 * more in cache misses than the work done with them.
 */
import { ExplanationSet, type Explanations } from '../detection/explanation-set.ts';
import type { Explanation } from '../detection/types.ts';

/** Contributions kept per explanation (typing and evidence name at most the first two). */
export const KEPT = 2;

export class ExplanationIndex {
  /**
   * Per slot: the row its explanation is for (the map's key; the set's row), how many contributions
   * were kept (0..KEPT). Slots are in the map's order (the set's order).
   */
  readonly row: Float64Array;
  readonly kept: Uint8Array;
  /** Per slot and kept contribution (KEPT per slot): its (feature, direction) code, value and percentile. */
  readonly key: Int32Array;
  readonly value: Float64Array;
  readonly percentile: Float64Array;
  /** Feature and direction of each (feature, direction) code. */
  readonly features: string[] = [];
  readonly directions: string[] = [];
  private readonly codes = new Map<string, Map<string, number>>();

  constructor(explanations: Explanations) {
    const slots = explanations.size;
    this.row = new Float64Array(slots);
    this.kept = new Uint8Array(slots);
    this.key = new Int32Array(KEPT * slots).fill(-1);
    this.value = new Float64Array(KEPT * slots);
    this.percentile = new Float64Array(KEPT * slots);
    if (explanations instanceof ExplanationSet) {
      this.copy(explanations);
      return;
    }
    // In the map's order: the objects were made in that order, so memory is read front to back
    // (forEach: no iterator result per entry).
    let slot = 0;
    explanations.forEach((e, row) => this.read(slot++, row, e));
  }

  /** Every slot from the set's arrays: codes made in the order read() makes them (slot by slot, rank by rank). */
  private copy(set: ExplanationSet): void {
    const k = set.features.length;
    const kept = Math.min(KEPT, k);
    // The code of (feature f, direction h) at 2f + h, once known.
    const codes = new Int32Array(2 * k).fill(-1);
    for (let slot = 0; slot < set.size; slot++) {
      this.row[slot] = set.rows[slot];
      this.kept[slot] = kept;
      for (let j = 0; j < kept; j++) {
        const p = slot * k + j;
        const fh = 2 * set.feature[p] + set.high[p];
        let code = codes[fh];
        if (code < 0) code = codes[fh] = this.code(set.features[fh >> 1], (fh & 1) === 1 ? 'high' : 'low');
        this.key[KEPT * slot + j] = code;
        this.value[KEPT * slot + j] = set.value[p];
        this.percentile[KEPT * slot + j] = set.percentile[p];
      }
    }
  }

  private read(slot: number, row: number, e: Explanation): void {
    this.row[slot] = row;
    const contributions = e.contributions;
    const kept = Math.min(KEPT, contributions.length);
    this.kept[slot] = kept;
    for (let j = 0; j < kept; j++) {
      const c = contributions[j];
      this.key[KEPT * slot + j] = this.code(c.feature, c.direction);
      this.value[KEPT * slot + j] = c.value;
      this.percentile[KEPT * slot + j] = c.percentile;
    }
  }

  /** The slot of each of `rows` (ascending row indices), -1 for a row without an explanation. */
  slotsOf(rows: Int32Array): Int32Array {
    const out = new Int32Array(rows.length).fill(-1);
    for (let slot = 0; slot < this.row.length; slot++) {
      const r = this.row[slot];
      let lo = 0;
      let hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (rows[mid] < r) lo = mid + 1;
        else hi = mid;
      }
      if (lo < rows.length && rows[lo] === r) out[lo] = slot;
    }
    return out;
  }

  /** The (feature, direction) code, made when first seen. */
  private code(feature: string, direction: string): number {
    let byFeature = this.codes.get(direction);
    if (!byFeature) this.codes.set(direction, (byFeature = new Map()));
    let c = byFeature.get(feature);
    if (c === undefined) {
      c = this.features.length;
      this.features.push(feature);
      this.directions.push(direction);
      byFeature.set(feature, c);
    }
    return c;
  }

  /** Number of (feature, direction) codes. */
  get keyCount(): number {
    return this.features.length;
  }

  /** "feature direction" of a code, as the evidence names it. */
  keyText(code: number): string {
    return `${this.features[code]} ${this.directions[code]}`;
  }
}
