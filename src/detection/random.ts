/**
 * Seeded randomness for the detector: xoshiro128** seeded through splitmix32.
 * the global unseeded generator is never used in src/detection; one integer seed gives one stream, and
 * child streams (one per tree) are seeded from draws of the parent.
 */

function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [s, z >>> 0];
}

export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any safe integer; its low and high 32-bit halves both count. */
  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let st = lo ^ Math.imul(hi, 0x27d4eb2d);
    let out: number;
    [st, out] = splitmix32(st);
    this.a = out | 0;
    [st, out] = splitmix32(st ^ hi);
    this.b = out | 0;
    [st, out] = splitmix32(st);
    this.c = out | 0;
    [st, out] = splitmix32(st);
    this.d = out | 0;
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9);
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextDouble(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n), unbiased, for 1 <= n <= 2^32. */
  nextInt(n: number): number {
    if (n <= 1) return 0;
    if (n > 4294967296) return Math.floor(this.nextDouble() * n);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const v = this.nextUint32();
      if (v < limit) return v % n;
    }
  }

  /** A new independent stream seeded from this one. */
  fork(): Random {
    return new Random(this.nextUint32() * 2097152 + (this.nextUint32() >>> 11));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** k distinct integers drawn uniformly from [0, n) (Floyd's algorithm), in draw order. */
export function sampleWithoutReplacement(rng: Random, n: number, k: number): Int32Array {
  const out = new Int32Array(k);
  if (k === n) {
    // A full permutation (Fisher-Yates): every row once.
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
  const seen = new Set<number>();
  let w = 0;
  for (let j = n - k; j < n; j++) {
    const t = rng.nextInt(j + 1);
    const v = seen.has(t) ? j : t;
    seen.add(v);
    out[w++] = v;
  }
  return out;
}

/** k integers drawn uniformly from [0, n) with replacement (bootstrap). */
export function sampleWithReplacement(rng: Random, n: number, k: number): Int32Array {
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) out[i] = rng.nextInt(n);
  return out;
}
