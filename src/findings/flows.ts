/**
 * The per-row findings as a read-only Map over the typed finding columns: a FlowFinding object is
 * made when a row is asked for (get, or iteration), once, and kept; rows without a finding cost
 * one typed-array read. Iteration is in row order, as the Map it replaces was filled.
 */
import type { FlowFinding, Incident } from './types.ts';
import type { RowFindings } from './incidents.ts';
import { TYPE_CODES } from './behaviour.ts';

export class FlowFindingMap implements ReadonlyMap<number, FlowFinding> {
  /** Finding index per table row, -1 for rows without a finding. */
  private readonly indexOf: Int32Array;
  private readonly made: (FlowFinding | undefined)[];

  constructor(
    rowCount: number,
    private readonly found: RowFindings,
    private readonly incidentOf: Int32Array,
    private readonly incidents: readonly Incident[],
    /** Behaviour hit type per row (-1 = none): a detector finding with a hit is 'both'. */
    private readonly hitType: Int8Array,
  ) {
    this.indexOf = new Int32Array(rowCount).fill(-1);
    for (let k = 0; k < found.count; k++) this.indexOf[found.row[k]] = k;
    this.made = new Array(found.count);
  }

  get size(): number {
    return this.found.count;
  }

  has(row: number): boolean {
    return this.indexOf[row] >= 0;
  }

  get(row: number): FlowFinding | undefined {
    const k = this.indexOf[row];
    // A number that is not a row index (1.5, -1, NaN, past the end) reads undefined: no finding.
    return k >= 0 ? this.at(k) : undefined;
  }

  private at(k: number): FlowFinding {
    let f = this.made[k];
    if (f === undefined) {
      const { found } = this;
      const row = found.row[k];
      f = {
        row,
        type: TYPE_CODES[found.type[k]],
        confidence: found.confidence[k],
        reason: found.reason[k],
        technique: found.technique[k],
        incidentId: this.incidents[this.incidentOf[k]].id,
        source: found.detector[k] ? (this.hitType[row] >= 0 ? 'both' : 'detector') : 'behaviour',
      };
      this.made[k] = f;
    }
    return f;
  }

  forEach(callbackfn: (value: FlowFinding, key: number, map: ReadonlyMap<number, FlowFinding>) => void, thisArg?: unknown): void {
    for (let k = 0; k < this.found.count; k++) {
      const f = this.at(k);
      callbackfn.call(thisArg, f, f.row, this);
    }
  }

  *entries(): MapIterator<[number, FlowFinding]> {
    for (let k = 0; k < this.found.count; k++) {
      const f = this.at(k);
      yield [f.row, f];
    }
  }

  *keys(): MapIterator<number> {
    for (let k = 0; k < this.found.count; k++) yield this.found.row[k];
  }

  *values(): MapIterator<FlowFinding> {
    for (let k = 0; k < this.found.count; k++) yield this.at(k);
  }

  [Symbol.iterator](): MapIterator<[number, FlowFinding]> {
    return this.entries();
  }

  /** As JSON.stringify writes a Map: no entries. */
  toJSON(): Record<string, never> {
    return {};
  }

  get [Symbol.toStringTag](): string {
    return 'FlowFindingMap';
  }
}
