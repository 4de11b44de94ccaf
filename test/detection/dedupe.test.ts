import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldDuplicates, unfold } from '../../src/detection/dedupe.ts';
import { mulberry32 } from '../../src/lib/prng.ts';

/** Rows drawn from a pool of `distinct` random rows (the first `distinct` rows are the pool itself). */
function rowsFromPool(n: number, cols: number, distinct: number, seed: number): Float32Array {
  const rnd = mulberry32(seed);
  const pool = Float32Array.from({ length: distinct * cols }, () => rnd() * 100 - 50);
  const out = new Float32Array(n * cols);
  for (let r = 0; r < n; r++) {
    const p = r < distinct ? r : Math.floor(rnd() * distinct);
    out.set(pool.subarray(p * cols, (p + 1) * cols), r * cols);
  }
  return out;
}

/** The reference: a Map from each row's text to its first-seen number. */
function reference(rows: Float32Array, n: number, cols: number): { firstRows: number[]; index: number[] } {
  const seen = new Map<string, number>();
  const firstRows: number[] = [];
  const index: number[] = [];
  for (let r = 0; r < n; r++) {
    const key = Array.from(new Int32Array(rows.buffer, r * cols * 4, cols)).join(',');
    let u = seen.get(key);
    if (u === undefined) {
      u = firstRows.length;
      seen.set(key, u);
      firstRows.push(r);
    }
    index.push(u);
  }
  return { firstRows, index };
}

test('folding numbers distinct rows in first-seen order and unfolds back to every row', () => {
  for (const [n, distinct] of [[20_000, 50], [70_000, 30_000], [100_000, 5000]]) {
    const cols = 3;
    const rows = rowsFromPool(n, cols, distinct, n);
    const folded = foldDuplicates(rows, n, cols, true);
    assert.ok(folded, `n = ${n}, ${distinct} distinct: folds`);
    const ref = reference(rows, n, cols);
    assert.equal(folded.uniqueCount, ref.firstRows.length);
    assert.deepEqual(Array.from(folded.index), ref.index);
    assert.ok(folded.unique.buffer instanceof SharedArrayBuffer);
    for (let u = 0; u < folded.uniqueCount; u++) {
      assert.deepEqual(folded.unique.subarray(u * cols, (u + 1) * cols), rows.subarray(ref.firstRows[u] * cols, (ref.firstRows[u] + 1) * cols));
    }
    const perRow = Float64Array.from({ length: folded.uniqueCount }, (_, u) => u * 0.5);
    assert.deepEqual(Array.from(unfold(perRow, folded.index, new Float64Array(n))), ref.index.map((u) => u * 0.5));
  }
});

test('folding is declined when it would not pay: few rows, mostly distinct first rows, or mostly distinct overall', () => {
  assert.equal(foldDuplicates(rowsFromPool(19_999, 2, 10, 1), 19_999, 2, false), null, 'below minRows');
  // The first 65,536 rows are all distinct (the rest would repeat): declined by the probe.
  assert.equal(foldDuplicates(rowsFromPool(200_000, 2, 65_536, 2), 200_000, 2, false), null, 'probe');
  // Repeats only among the first 65,536 rows but distinct beyond: passes the probe, declined at the end.
  const rows = rowsFromPool(300_000, 2, 300_000, 3);
  rows.copyWithin(0, 2 * 40_000, 2 * 65_536); // rows 0..25,535 repeat rows 40,000..65,535
  assert.equal(foldDuplicates(rows, 300_000, 2, false), null, 'overall');
  assert.ok(foldDuplicates(rowsFromPool(200_000, 2, 50_000, 4), 200_000, 2, false), '25 % distinct folds');
});
