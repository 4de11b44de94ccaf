/**
 * mulberry32: a small, fast, seeded generator of floats in [0, 1). Deterministic across runs and
 * platforms; for sampling (charts), test data and benchmarks. The detector has its own stream
 * (src/detection/random.ts) and the generator its own (src/generator/prng.ts), each pinned by tests.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
