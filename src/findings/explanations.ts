/**
 * What findings reads of the detector's explanations (the first two contributions of each: feature,
 * direction, value, percentile), gathered in one pass over the map into typed columns. Typing and
 * evidence then read numbers by row: following 50,000 scattered explanation objects per row, twice,
 * cost more in cache misses than the work done with them.
 */
import type { Explanation } from '../detection/types.ts';

/** Contributions kept per explanation (typing and evidence name at most the first two). */
export const KEPT = 2;

export class ExplanationIndex {
  /** Per slot: the row its explanation is for (the map's key), how many contributions were kept (0..KEPT). */
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

  constructor(explanations: ReadonlyMap<number, Explanation>) {
    const slots = explanations.size;
    this.row = new Float64Array(slots);
    this.kept = new Uint8Array(slots);
    this.key = new Int32Array(KEPT * slots).fill(-1);
    this.value = new Float64Array(KEPT * slots);
    this.percentile = new Float64Array(KEPT * slots);
    // In the map's order: the objects were made in that order, so memory is read front to back
    // (forEach: no iterator result per entry).
    let slot = 0;
    explanations.forEach((e, row) => this.read(slot++, row, e));
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
