/**
 * Exact order statistics without a full sort: a multi-rank selection.
 *
 * Quickselect partitions around a pivot and keeps only the side that holds the wanted rank; with
 * several wanted ranks (kept sorted), each partition hands each side the ranks that fall in it, so k
 * ranks cost O(n log k) instead of a sort's O(n log n). Small ranges are finished by insertion sort,
 * and a range partitioned too often (pivots that keep splitting badly) is sorted outright, so the
 * worst case stays O(n log n) (introselect). Partitions are branch-free (Lomuto with the comparison
 * used as an increment); when the pivot has many copies they are gathered too, so a rank among them
 * is done at once and columns with heavy duplicates (ports, protocols, zero rates) stay linear.
 *
 * Large inputs first go through one counting pass on the high bits of the values' IEEE order (a
 * radix "bucket" per range of values, sized from the min and max): the bucket holding each wanted
 * rank is known from the counts, only those buckets' values are copied out, and the selection runs
 * inside each. With ~200 ranks (percentiles), that is three passes over the data instead of ~10.
 *
 * Results equal the sorted array's values at those ranks, bit for bit, including the sign of zero:
 * a sort puts -0 before +0, which `<` cannot see, so a selected zero gets its sign afterwards from
 * the counts of negatives and of -0 among the values it was selected from.
 */

/** Ranges of at most this many values are finished by insertion sort. */
const SMALL_RANGE = 16;
/** From this many values, the counting pass narrows the work to a few buckets first. */
const BUCKET_MIN_VALUES = 32_768;
/** Buckets of the counting pass: 2^12 counters stay in the L1 cache. */
const BUCKET_BITS = 12;

/**
 * The values at `ranks` (0-based positions in ascending order; any order, repeats allowed) of
 * `values`, each equal to `Float64Array.from(values).sort()[rank]`. `values` is left unchanged.
 * NaN must not be present (as for a sort on the IEEE bits).
 */
export function selectRanks(values: Float64Array, ranks: ArrayLike<number>): Float64Array {
  const n = values.length;
  for (let i = 0; i < ranks.length; i++) {
    const r = ranks[i];
    if (!Number.isInteger(r) || r < 0 || r >= n) throw new RangeError(`Rank ${r} is out of range (0..${n - 1})`);
  }
  const sorted = Int32Array.from(ranks).sort();
  let k = 0; // distinct ranks, compacted in place
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[k - 1]) sorted[k++] = sorted[i];
  const wanted = sorted.subarray(0, k);
  const found = new Float64Array(k);
  if (k > 0) {
    if (n < BUCKET_MIN_VALUES) selectIn(Float64Array.from(values), wanted, 0, k, 0, found);
    else selectBucketed(values, wanted, 0, k, 0, found);
  }
  const out = new Float64Array(ranks.length);
  for (let i = 0; i < ranks.length; i++) out[i] = found[indexOf(wanted, ranks[i])];
  return out;
}

/**
 * Ranks wanted[rLo .. rHi) minus `base` are ranks within `a`, which is reordered; their values go to
 * found[rLo .. rHi), signed zeros included.
 */
function selectIn(a: Float64Array, wanted: Int32Array, rLo: number, rHi: number, base: number, found: Float64Array): void {
  const budget = 2 * Math.ceil(Math.log2(a.length + 1)) + 4; // about twice a balanced partitioning's depth
  selectRange(a, 0, a.length, wanted, rLo, rHi, base, found, budget);
  signZeros(a, wanted, rLo, rHi, base, found);
}

/**
 * Order statistics of ranks wanted[rLo .. rHi) - base (ascending, all inside [lo, hi)) of a[lo .. hi)
 * into found[rLo .. rHi). Recurses on the left part of each partition and loops on the right;
 * `budget` partitions remain before a range is sorted instead.
 */
function selectRange(
  a: Float64Array,
  lo: number,
  hi: number,
  wanted: Int32Array,
  rLo: number,
  rHi: number,
  base: number,
  found: Float64Array,
  budget: number,
): void {
  while (rLo < rHi) {
    if (hi - lo <= SMALL_RANGE || budget-- <= 0) {
      if (hi - lo <= SMALL_RANGE) insertionSort(a, lo, hi);
      else a.subarray(lo, hi).sort();
      for (let r = rLo; r < rHi; r++) found[r] = a[wanted[r] - base];
      return;
    }
    const p = pivotOf(a, lo, hi);
    // [lo, lt) < p <= [lt, hi); `(v < p) as number` is 0/1 at run time, so there is no branch to mispredict.
    let lt = lo;
    let equal = 0;
    for (let i = lo; i < hi; i++) {
      const v = a[i];
      a[i] = a[lt];
      a[lt] = v;
      lt += (v < p) as unknown as number;
      equal += (v === p) as unknown as number;
    }
    let mid = rLo;
    while (mid < rHi && wanted[mid] - base < lt) mid++;
    let right = mid;
    let gt = lt;
    if (mid < rHi && equal > (hi - lo) >>> 5) {
      // Many copies of the pivot: gather them at [lt, gt), so ranks among them are done now.
      for (let i = lt; i < hi; i++) {
        const v = a[i];
        a[i] = a[gt];
        a[gt] = v;
        gt += (v === p) as unknown as number;
      }
      while (right < rHi && wanted[right] - base < gt) found[right++] = p;
    }
    selectRange(a, lo, lt, wanted, rLo, mid, base, found, budget);
    lo = gt;
    rLo = right;
  }
}

/**
 * Selection on a large input: count the values per bucket of their order key's high bits, find the
 * bucket of each wanted rank, copy out only those buckets and select inside each (a large bucket
 * the same way again: every level narrows the key range ~2^11-fold, so there are at most three).
 * Ranks wanted[rLo .. rHi) minus `base` are ranks within `values`, which is not modified.
 */
function selectBucketed(values: Float64Array, wanted: Int32Array, rLo: number, rHi: number, base: number, found: Float64Array): void {
  const n = values.length;
  let min = values[0];
  let max = min;
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === max) {
    // One value (or zeros of both signs): every rank has it.
    for (let r = rLo; r < rHi; r++) found[r] = min;
    signZeros(values, wanted, rLo, rHi, base, found);
    return;
  }
  const high = new Int32Array(values.buffer, values.byteOffset, 2 * n); // little-endian: high word at 2i + 1
  const keyMin = orderKey(min === 0 ? -0 : min); // -0 sorts below +0
  const range = orderKey(max === 0 ? 0 : max) - keyMin;
  if (range === 0) {
    // Values differ in their low words only.
    selectIn(Float64Array.from(values), wanted, rLo, rHi, base, found);
    return;
  }
  let shift = 0;
  while (range / 2 ** shift >= 1 << BUCKET_BITS) shift++;
  const buckets = Math.floor(range / 2 ** shift) + 1;
  // start[b] = values in buckets before b; bucket of a value = (key - keyMin) >>> shift, where the
  // difference fits 32 unsigned bits (`| 0` keeps it in integer arithmetic, `>>>` reads it unsigned).
  const start = new Int32Array(buckets + 1);
  for (let i = 1; i < 2 * n; i += 2) {
    const h = high[i];
    start[((((h ^ ((h >> 31) & 0x7fffffff)) - keyMin) | 0) >>> shift) + 1]++;
  }
  for (let b = 0; b < buckets; b++) start[b + 1] += start[b];
  // Each wanted rank's bucket; those buckets are laid out one after another in `out`.
  const cursor = new Int32Array(buckets).fill(-1);
  const bucketOf = new Int32Array(rHi);
  let total = 0;
  for (let r = rLo; r < rHi; r++) {
    let lo = 0;
    let hi = buckets - 1;
    while (lo < hi) {
      const m = (lo + hi + 1) >>> 1;
      if (start[m] <= wanted[r] - base) lo = m;
      else hi = m - 1;
    }
    bucketOf[r] = lo;
    if (cursor[lo] < 0) {
      cursor[lo] = total;
      total += start[lo + 1] - start[lo];
    }
  }
  const out = new Float64Array(total);
  for (let i = 0; i < n; i++) {
    const h = high[2 * i + 1];
    const b = (((h ^ ((h >> 31) & 0x7fffffff)) - keyMin) | 0) >>> shift;
    const c = cursor[b];
    if (c >= 0) {
      out[c] = values[i];
      cursor[b] = c + 1;
    }
  }
  // Buckets come in rank order; cursor[b] now points at the end of bucket b's copy. Min and max
  // fall in different buckets, so each bucket is smaller than `values`.
  for (let r = rLo; r < rHi; ) {
    const b = bucketOf[r];
    let end = r + 1;
    while (end < rHi && bucketOf[end] === b) end++;
    const size = start[b + 1] - start[b];
    const bucket = out.subarray(cursor[b] - size, cursor[b]);
    if (size >= BUCKET_MIN_VALUES) selectBucketed(bucket, wanted, r, end, base + start[b], found);
    else selectIn(bucket, wanted, r, end, base + start[b], found);
    r = end;
  }
}

const keyBits = new Float64Array(1);
const keyWords = new Int32Array(keyBits.buffer);

/** Signed 32-bit key of a double's high word that orders as the doubles do (-0 just below +0). */
function orderKey(v: number): number {
  keyBits[0] = v;
  const h = keyWords[1];
  return h ^ ((h >> 31) & 0x7fffffff);
}

/** Median of three samples (of three medians of three for large ranges): a value of a[lo .. hi). */
function pivotOf(a: Float64Array, lo: number, hi: number): number {
  const n = hi - lo;
  const mid = lo + (n >>> 1);
  if (n < 128) return median3(a[lo], a[mid], a[hi - 1]);
  const s = n >>> 3;
  return median3(
    median3(a[lo], a[lo + s], a[lo + 2 * s]),
    median3(a[mid - s], a[mid], a[mid + s]),
    median3(a[hi - 1 - 2 * s], a[hi - 1 - s], a[hi - 1]),
  );
}

function median3(x: number, y: number, z: number): number {
  if (x < y) return y < z ? y : x < z ? z : x;
  return x < z ? x : y < z ? z : y;
}

function insertionSort(a: Float64Array, lo: number, hi: number): void {
  for (let i = lo + 1; i < hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/**
 * A sort puts -0 before +0; selection compares with `<` and may return either. A zero at rank r of
 * `a` is -0 exactly when r - (values < 0) < (values that are -0). Counted only when a zero was selected.
 */
function signZeros(a: Float64Array, wanted: Int32Array, rLo: number, rHi: number, base: number, found: Float64Array): void {
  let anyZero = false;
  for (let r = rLo; r < rHi; r++) if (found[r] === 0) anyZero = true;
  if (!anyZero) return;
  let negative = 0;
  let negativeZero = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < 0) negative++;
    else if (v === 0 && 1 / v < 0) negativeZero++;
  }
  for (let r = rLo; r < rHi; r++) {
    if (found[r] === 0) found[r] = wanted[r] - base - negative < negativeZero ? -0 : 0;
  }
}

/** Position of `value` in the ascending, distinct `sorted` (present by construction). */
function indexOf(sorted: Int32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
