/**
 * The two tree walks that cost the most, as WebAssembly: scoring (kernel.ts `heapPathSums`) and
 * explanation credits (explain.ts `creditsRange`). Each is the same walk as its JavaScript twin,
 * with the same float32-row against float64-threshold comparisons and the same floating-point
 * operations in the same order, so the results are bit-identical; measured ~1.7× faster (no
 * typed-array bounds checks, the comparison result used directly as a branch offset). Built at run
 * time by lib/wasm.ts; where WebAssembly is unavailable the JavaScript loops run instead.
 *
 * Each thread has its own instances and memories: the forest is copied in once per forest (a few
 * hundred KB to a few MB), rows go through in chunks (copied in, walked, results copied out), so
 * memory stays bounded and the callers' SharedArrayBuffers need not live in wasm memory.
 */
import { encodeModule, I, Op, type WasmFunction } from '../lib/wasm.ts';
import type { HeapForest, PackedForest } from './kernel.ts';

/** Rows copied into wasm memory per call. */
const CHUNK_ROWS = 16_384;
/** Rows walking a tree in lock step when scoring (independent chains of loads keep the CPU busy). */
const LANES = 8;
/** Rows walking a tree together in the credits walk. */
const CREDIT_LANES = 4;
/** Rows per block of the credits walk, tree-major inside a block (as explain.ts). */
const CREDIT_BLOCK_ROWS = 512;

const { get, set, i32, whileLoop } = I;

/** Numbers locals from `first` on, in the order asked. */
function localCounter(first: number): () => number {
  let next = first;
  return () => next++;
}

// ---- Scoring: path sums over heap-order trees ----------------------------------------------------

// Parameters of `pathSums` (byte addresses are i32s into the module's memory).
const S_ROWS = 0; // float32 rows, row-major
const S_COLS = 1;
const S_COUNT = 2; // rows to sum: out[0 .. count)
const S_FEATURE = 3; // int32 per heap slot
const S_THRESHOLD = 4; // float64 per heap slot
const S_LEAF = 5; // float64 per bottom slot
const S_HEAP_BASE = 6; // int32 per tree
const S_LEAF_BASE = 7; // int32 per tree
const S_DEPTH = 8; // int32 per tree
const S_TREES = 9;
const S_OUT = 10; // float64 per row
const S_BLOCK = 11; // rows per block, tree-major inside a block
const S_PARAMS = 12;

function pathSumsFunction(): WasmFunction {
  const local = localCounter(S_PARAMS);
  const B0 = local();
  const B1 = local();
  const T = local();
  const STEPS = local();
  const FB = local(); // this tree's feature slots
  const TB = local(); // this tree's threshold slots
  const LB = local(); // leaf address of bottom slot 0: leaf + (leafBase[t] - (2^steps - 1)) · 8
  const R = local();
  const D = local();
  const ROW_BYTES = local();
  const A = Array.from({ length: LANES }, local); // row address of each lane
  const S = Array.from({ length: LANES }, local); // heap slot of each lane
  const locals = local() - S_PARAMS;

  /** s = 2s + 1 + (rows[a + 4·feature[s]] > threshold[s]) for lane k. */
  const step = (k: number) => [
    ...get(S[k]), ...i32(1), Op.i32Shl, ...i32(1), Op.i32Add,
    ...get(A[k]), ...get(FB), ...get(S[k]), ...i32(2), Op.i32Shl, Op.i32Add, ...I.i32Load(), ...i32(2), Op.i32Shl, Op.i32Add,
    ...I.f32Load(), Op.f64PromoteF32,
    ...get(TB), ...get(S[k]), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Load(),
    Op.f64Gt, Op.i32Add, ...set(S[k]),
  ];
  /** out[r + k] += leaf[lb + 8·s] for lane k. */
  const accumulate = (k: number) => {
    const outAddress = [...get(S_OUT), ...get(R), ...i32(k), Op.i32Add, ...i32(3), Op.i32Shl, Op.i32Add];
    return [
      ...outAddress,
      ...outAddress, ...I.f64Load(),
      ...get(LB), ...get(S[k]), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Load(),
      Op.f64Add, ...I.f64Store(),
    ];
  };
  /** Rows r .. r + n - 1 down the current tree; then r += n. */
  const lanes = (n: number) => {
    const start: number[] = [];
    const steps: number[] = [];
    const sums: number[] = [];
    for (let k = 0; k < n; k++) {
      start.push(...get(S_ROWS), ...get(R), ...i32(k), Op.i32Add, ...get(ROW_BYTES), Op.i32Mul, Op.i32Add, ...set(A[k]), ...i32(0), ...set(S[k]));
      steps.push(...step(k));
      sums.push(...accumulate(k));
    }
    return [
      ...start,
      ...get(STEPS), ...set(D),
      ...whileLoop([...get(D), ...i32(0), Op.i32GtS], [...steps, ...get(D), ...i32(1), Op.i32Sub, ...set(D)]),
      ...sums,
      ...get(R), ...i32(n), Op.i32Add, ...set(R),
    ];
  };
  const word = (base: number, index: number) => [...get(base), ...get(index), ...i32(2), Op.i32Shl, Op.i32Add, ...I.i32Load()];
  const body = [
    ...get(S_COLS), ...i32(2), Op.i32Shl, ...set(ROW_BYTES),
    ...i32(0), ...set(B0),
    ...whileLoop([...get(B0), ...get(S_COUNT), Op.i32LtS], [
      // b1 = min(count, b0 + block)
      ...get(B0), ...get(S_BLOCK), Op.i32Add, ...get(S_COUNT),
      ...get(B0), ...get(S_BLOCK), Op.i32Add, ...get(S_COUNT), Op.i32LtS, Op.select, ...set(B1),
      // out[b0 .. b1) = 0
      ...get(B0), ...set(R),
      ...whileLoop([...get(R), ...get(B1), Op.i32LtS], [
        ...get(S_OUT), ...get(R), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Zero(), ...I.f64Store(),
        ...get(R), ...i32(1), Op.i32Add, ...set(R),
      ]),
      ...i32(0), ...set(T),
      ...whileLoop([...get(T), ...get(S_TREES), Op.i32LtS], [
        ...word(S_DEPTH, T), ...set(STEPS),
        ...word(S_HEAP_BASE, T), ...set(D), // D holds heapBase[t] for the next two lines
        ...get(S_FEATURE), ...get(D), ...i32(2), Op.i32Shl, Op.i32Add, ...set(FB),
        ...get(S_THRESHOLD), ...get(D), ...i32(3), Op.i32Shl, Op.i32Add, ...set(TB),
        ...get(S_LEAF), ...word(S_LEAF_BASE, T), ...i32(1), ...get(STEPS), Op.i32Shl, ...i32(1), Op.i32Sub, Op.i32Sub,
        ...i32(3), Op.i32Shl, Op.i32Add, ...set(LB),
        ...get(B0), ...set(R),
        ...whileLoop([...get(R), ...i32(LANES), Op.i32Add, ...get(B1), Op.i32LeS], lanes(LANES)),
        ...whileLoop([...get(R), ...get(B1), Op.i32LtS], lanes(1)),
        ...get(T), ...i32(1), Op.i32Add, ...set(T),
      ]),
      ...get(B0), ...get(S_BLOCK), Op.i32Add, ...set(B0),
    ]),
  ];
  return { name: 'pathSums', params: S_PARAMS, i32Locals: locals, body };
}

// ---- Explanation credits: the node walk of explain.ts -------------------------------------------

const C_ROWS = 0; // float32 rows, row-major
const C_COLS = 1;
const C_COUNT = 2; // rows: out[0 .. count · cols)
const C_ROOTS = 3; // int32 per tree
const C_DEPTH = 4; // int32 per tree
const C_NODE = 5; // int32 × 4 per node: feature, left, right, unused
const C_THRESHOLD = 6; // float64 per node
const C_GAIN = 7; // float64 × 2 per node
const C_LO = 8; // float64 per node
const C_HI = 9; // float64 per node
const C_ISOLATE = 10; // float64 per node
const C_TREES = 11;
const C_OUT = 12; // float64 per row and column
const C_PARAMS = 13;

function creditsFunction(): WasmFunction {
  const local = localCounter(C_PARAMS);
  const B0 = local();
  const B1 = local();
  const T = local();
  const ROOT = local();
  const STEPS = local();
  const R = local();
  const D = local();
  const K = local(); // byte address of node g's four words
  const FEAT = local();
  const SIDE = local();
  const OA = local(); // byte address of out[o + feat]
  const I8 = local(); // 8 · g
  const LIVE = local(); // some lane has not reached its leaf yet
  const ROW_BYTES = local();
  const OUT_BYTES = local();
  // Per lane: node g, byte address of its row and of its out row.
  const G = Array.from({ length: CREDIT_LANES }, local);
  const ROW = Array.from({ length: CREDIT_LANES }, local);
  const OROW = Array.from({ length: CREDIT_LANES }, local);
  const i32Count = local() - C_PARAMS;
  const fLocal = localCounter(local());
  const X = fLocal();
  const LO = fLocal();
  const HI = fLocal();
  const U = fLocal();
  const P = fLocal();
  const GAIN = fLocal();
  const ALIVE = Array.from({ length: CREDIT_LANES }, fLocal); // per lane: the chance the row is not isolated yet
  const f64Count = fLocal() - (C_PARAMS + i32Count);

  const at8 = (base: number) => [...get(base), ...get(I8), Op.i32Add, ...I.f64Load()];
  const word = (base: number, index: number) => [...get(base), ...get(index), ...i32(2), Op.i32Shl, Op.i32Add, ...I.i32Load()];
  /** K = address of lane k's node; leaves "node g is a leaf" (it is its own left child) on the stack. */
  const atLeaf = (k: number) => [
    ...get(C_NODE), ...get(G[k]), ...i32(4), Op.i32Shl, Op.i32Add, ...set(K),
    ...get(K), ...I.i32Load(4), ...get(G[k]), Op.i32Eq,
  ];
  /** One step of lane k at an internal node (explain.ts, creditsRange's inner loop), K set. */
  const step = (k: number) => [
    ...get(G[k]), ...i32(3), Op.i32Shl, ...set(I8),
    ...get(K), ...I.i32Load(), ...set(FEAT),
    ...get(ROW[k]), ...get(FEAT), ...i32(2), Op.i32Shl, Op.i32Add, ...I.f32Load(), Op.f64PromoteF32, ...set(X),
    ...get(X), ...at8(C_THRESHOLD), Op.f64Gt, ...set(SIDE),
    ...at8(C_LO), ...set(LO),
    ...at8(C_HI), ...set(HI),
    ...get(C_GAIN), ...get(I8), ...i32(1), Op.i32Shl, Op.i32Add, ...get(SIDE), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Load(), ...set(GAIN),
    ...get(OROW[k]), ...get(FEAT), ...i32(3), Op.i32Shl, Op.i32Add, ...set(OA),
    // if (x > hi || x < lo)
    ...get(X), ...get(HI), Op.f64Gt, ...get(X), ...get(LO), Op.f64Lt, Op.i32Or,
    ...I.ifElse(
      [
        // u = x > hi ? x - hi : lo - x;  p = u / (u + (hi - lo))
        ...get(X), ...get(HI), Op.f64Sub, ...get(LO), ...get(X), Op.f64Sub, ...get(X), ...get(HI), Op.f64Gt, Op.select, ...set(U),
        ...get(U), ...get(U), ...get(HI), ...get(LO), Op.f64Sub, Op.f64Add, Op.f64Div, ...set(P),
        // out += alive · (p · isolate[g] + (1 - p) · gain)
        ...get(OA),
        ...get(OA), ...I.f64Load(),
        ...get(ALIVE[k]), ...get(P), ...at8(C_ISOLATE), Op.f64Mul, ...I.f64(1), ...get(P), Op.f64Sub, ...get(GAIN), Op.f64Mul, Op.f64Add, Op.f64Mul,
        Op.f64Add, ...I.f64Store(),
        // alive *= 1 - p
        ...get(ALIVE[k]), ...I.f64(1), ...get(P), Op.f64Sub, Op.f64Mul, ...set(ALIVE[k]),
      ],
      [
        // out += alive · gain
        ...get(OA),
        ...get(OA), ...I.f64Load(), ...get(ALIVE[k]), ...get(GAIN), Op.f64Mul, Op.f64Add, ...I.f64Store(),
      ],
    ),
    // g = node[4g + 1 + side]
    ...get(K), ...get(SIDE), ...i32(2), Op.i32Shl, Op.i32Add, ...I.i32Load(4), ...set(G[k]),
  ];
  /**
   * Rows r .. r + n - 1 down the current tree; then r += n. Each lane stops at its leaf (a lane at
   * its leaf skips its step); the steps stop when every lane is at its leaf or after the tree's height.
   */
  const lanes = (n: number) => {
    const start: number[] = [];
    const steps: number[] = [];
    for (let k = 0; k < n; k++) {
      start.push(
        ...get(C_ROWS), ...get(R), ...i32(k), Op.i32Add, ...get(ROW_BYTES), Op.i32Mul, Op.i32Add, ...set(ROW[k]),
        ...get(C_OUT), ...get(R), ...i32(k), Op.i32Add, ...get(OUT_BYTES), Op.i32Mul, Op.i32Add, ...set(OROW[k]),
        ...get(ROOT), ...set(G[k]),
        ...I.f64(1), ...set(ALIVE[k]),
      );
      steps.push(...atLeaf(k), Op.i32Eqz, ...I.ifElse([...step(k), ...i32(1), ...get(LIVE), Op.i32Or, ...set(LIVE)], []));
    }
    return [
      ...start,
      ...get(STEPS), ...set(D),
      ...whileLoop([...get(D), ...i32(0), Op.i32GtS], [
        ...i32(0), ...set(LIVE),
        ...steps,
        ...get(LIVE), Op.i32Eqz, Op.brIf, 1, // every lane at its leaf: out of the loop's block
        ...get(D), ...i32(1), Op.i32Sub, ...set(D),
      ]),
      ...get(R), ...i32(n), Op.i32Add, ...set(R),
    ];
  };
  const body = [
    ...get(C_COLS), ...i32(2), Op.i32Shl, ...set(ROW_BYTES),
    ...get(C_COLS), ...i32(3), Op.i32Shl, ...set(OUT_BYTES),
    // out[0 .. count · cols) = 0
    ...i32(0), ...set(R),
    ...whileLoop([...get(R), ...get(C_COUNT), ...get(C_COLS), Op.i32Mul, Op.i32LtS], [
      ...get(C_OUT), ...get(R), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Zero(), ...I.f64Store(),
      ...get(R), ...i32(1), Op.i32Add, ...set(R),
    ]),
    ...i32(0), ...set(B0),
    ...whileLoop([...get(B0), ...get(C_COUNT), Op.i32LtS], [
      ...get(B0), ...i32(CREDIT_BLOCK_ROWS), Op.i32Add, ...get(C_COUNT),
      ...get(B0), ...i32(CREDIT_BLOCK_ROWS), Op.i32Add, ...get(C_COUNT), Op.i32LtS, Op.select, ...set(B1),
      ...i32(0), ...set(T),
      ...whileLoop([...get(T), ...get(C_TREES), Op.i32LtS], [
        ...word(C_ROOTS, T), ...set(ROOT),
        ...word(C_DEPTH, T), ...set(STEPS),
        ...get(B0), ...set(R),
        ...whileLoop([...get(R), ...i32(CREDIT_LANES), Op.i32Add, ...get(B1), Op.i32LeS], lanes(CREDIT_LANES)),
        ...whileLoop([...get(R), ...get(B1), Op.i32LtS], lanes(1)),
        ...get(T), ...i32(1), Op.i32Add, ...set(T),
      ]),
      ...get(B0), ...i32(CREDIT_BLOCK_ROWS), Op.i32Add, ...set(B0),
    ]),
    // out /= nTrees
    ...i32(0), ...set(R),
    ...whileLoop([...get(R), ...get(C_COUNT), ...get(C_COLS), Op.i32Mul, Op.i32LtS], [
      ...get(C_OUT), ...get(R), ...i32(3), Op.i32Shl, Op.i32Add, ...set(OA),
      ...get(OA), ...get(OA), ...I.f64Load(), ...get(C_TREES), Op.f64ConvertI32S, Op.f64Div, ...I.f64Store(),
      ...get(R), ...i32(1), Op.i32Add, ...set(R),
    ]),
  ];
  return { name: 'credits', params: C_PARAMS, i32Locals: i32Count, f64Locals: f64Count, body };
}

// ---- Instances ----------------------------------------------------------------------------------

type Run = (...args: number[]) => void;

const PAGE = 65_536;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** An instance of the module over a memory of its own that grows as needed. */
class Instance {
  private readonly memory = new WebAssembly.Memory({ initial: 16 });
  readonly exports: Record<string, Run>;

  constructor(module: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as Record<string, Run>;
  }

  /** The memory's buffer, at least `bytes` long (growing it replaces the buffer: take views after). */
  buffer(bytes: number): ArrayBuffer {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    return this.memory.buffer;
  }
}

/** Lays out arrays one after another (each 16-byte aligned) and copies them in. */
export class Layout {
  private end = 0;
  private readonly copies: (() => void)[] = [];
  /** The memory's buffer once committed (the copies write into it). */
  private memory: ArrayBuffer | null = null;
  constructor(private readonly buffer: (bytes: number) => ArrayBuffer) {}

  reserve(bytes: number): number {
    const at = align(this.end, 16);
    this.end = at + bytes;
    return at;
  }

  add(values: Int32Array | Float64Array): number {
    const at = this.reserve(values.byteLength);
    this.copies.push(() => {
      const memory = this.memory!;
      const view = values instanceof Int32Array ? new Int32Array(memory, at, values.length) : new Float64Array(memory, at, values.length);
      view.set(values);
    });
    return at;
  }

  /**
   * Grows the memory to fit and copies every added array in; false (nothing copied) when the
   * memory cannot grow that far (a wasm memory tops out at 4 GiB).
   */
  commit(): boolean {
    let memory: ArrayBuffer;
    try {
      memory = this.buffer(this.end);
    } catch (err) {
      if (err instanceof RangeError) return false;
      throw err;
    }
    this.memory = memory;
    for (const copy of this.copies) copy();
    return true;
  }
}

class WasmScorer {
  /** PackedForest.key of the forest held (tasks posted to a worker bring new objects for the same one). */
  private forest: string | null = null;
  private at = { feature: 0, threshold: 0, leaf: 0, heapBase: 0, leafBase: 0, depth: 0, rows: 0, out: 0 };

  constructor(private readonly instance: Instance) {}

  /**
   * heapPathSums: rows [start, end) into out[0 .. end - start), in blocks of `block` rows; false
   * (nothing written) when the forest does not fit in wasm memory.
   */
  pathSums(f: PackedForest, hf: HeapForest, rows: Float32Array, start: number, end: number, out: Float64Array, block: number): boolean {
    if (this.forest !== f.key) {
      const layout = new Layout((bytes) => this.instance.buffer(bytes));
      const trees = (a: Int32Array) => a.subarray(0, f.nTrees);
      const at = {
        feature: layout.add(hf.feature),
        threshold: layout.add(hf.threshold),
        leaf: layout.add(hf.leaf),
        heapBase: layout.add(trees(hf.heapBase)),
        leafBase: layout.add(trees(hf.leafBase)),
        depth: layout.add(trees(f.depth)),
        rows: layout.reserve(4 * f.cols * CHUNK_ROWS),
        out: layout.reserve(8 * CHUNK_ROWS),
      };
      if (!layout.commit()) return false; // nothing here has changed: the JavaScript loop runs
      this.at = at;
      this.forest = f.key;
    }
    const at = this.at;
    const cols = f.cols;
    const buffer = this.instance.buffer(0);
    const chunkRows = new Float32Array(buffer, at.rows, cols * CHUNK_ROWS);
    const chunkOut = new Float64Array(buffer, at.out, CHUNK_ROWS);
    const run = this.instance.exports.pathSums;
    for (let c0 = start; c0 < end; c0 += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, end - c0);
      chunkRows.set(rows.subarray(c0 * cols, (c0 + count) * cols));
      run(at.rows, cols, count, at.feature, at.threshold, at.leaf, at.heapBase, at.leafBase, at.depth, f.nTrees, at.out, block);
      out.set(chunkOut.subarray(0, count), c0 - start);
    }
    return true;
  }
}

class WasmCredits {
  /** PackedForest.key of the forest held. */
  private forest: string | null = null;
  private at = { roots: 0, depth: 0, node: 0, threshold: 0, gain: 0, lo: 0, hi: 0, isolate: 0, rows: 0, out: 0 };

  constructor(private readonly instance: Instance) {}

  /**
   * creditsRange: rows [start, end) into out[start · cols .. end · cols); false (nothing written)
   * when the forest does not fit in wasm memory.
   */
  credits(f: PackedForest, rows: Float32Array, start: number, end: number, out: Float64Array): boolean {
    const cols = f.cols;
    if (this.forest !== f.key) {
      const layout = new Layout((bytes) => this.instance.buffer(bytes));
      const at = {
        roots: layout.add(f.roots.subarray(0, f.nTrees)),
        depth: layout.add(f.depth.subarray(0, f.nTrees)),
        node: layout.add(f.node),
        threshold: layout.add(f.threshold),
        gain: layout.add(f.gain),
        lo: layout.add(f.lo),
        hi: layout.add(f.hi),
        isolate: layout.add(f.isolate),
        rows: layout.reserve(4 * cols * CHUNK_ROWS),
        out: layout.reserve(8 * cols * CHUNK_ROWS),
      };
      if (!layout.commit()) return false; // nothing here has changed: the JavaScript loop runs
      this.at = at;
      this.forest = f.key;
    }
    const at = this.at;
    const buffer = this.instance.buffer(0);
    const chunkRows = new Float32Array(buffer, at.rows, cols * CHUNK_ROWS);
    const chunkOut = new Float64Array(buffer, at.out, cols * CHUNK_ROWS);
    const run = this.instance.exports.credits;
    for (let c0 = start; c0 < end; c0 += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, end - c0);
      chunkRows.set(rows.subarray(c0 * cols, (c0 + count) * cols));
      run(at.rows, cols, count, at.roots, at.depth, at.node, at.threshold, at.gain, at.lo, at.hi, at.isolate, f.nTrees, at.out);
      out.set(chunkOut.subarray(0, count * cols), c0 * cols);
    }
    return true;
  }
}

let preferred: 'wasm' | 'js' = 'wasm';
let kernels: { scorer: WasmScorer; credits: WasmCredits } | null | undefined;

/**
 * Which loops run: 'wasm' (the default, where WebAssembly works) or 'js'. Both give the same
 * results bit for bit; 'js' is for comparing them (tests, benchmarks).
 */
export function setScoringKernel(kind: 'wasm' | 'js'): void {
  preferred = kind;
}

/** The loops that will run: 'wasm' when preferred and available, else 'js'. */
export function scoringKernel(): 'wasm' | 'js' {
  return preferred === 'wasm' && wasmKernels() !== null ? 'wasm' : 'js';
}

/** This thread's instances, made on first use; null when WebAssembly is unavailable. */
function wasmKernels(): { scorer: WasmScorer; credits: WasmCredits } | null {
  if (kernels === undefined) {
    try {
      const module = new WebAssembly.Module(encodeModule([pathSumsFunction(), creditsFunction()]));
      kernels = { scorer: new WasmScorer(new Instance(module)), credits: new WasmCredits(new Instance(module)) };
    } catch {
      kernels = null;
    }
  }
  return kernels;
}

/** heapPathSums through wasm; false (nothing done) when the JavaScript loop should run instead. */
export function wasmHeapPathSums(
  f: PackedForest,
  hf: HeapForest,
  rows: Float32Array,
  start: number,
  end: number,
  out: Float64Array,
  block: number,
): boolean {
  if (preferred !== 'wasm') return false;
  const k = wasmKernels();
  if (k === null) return false;
  return k.scorer.pathSums(f, hf, rows, start, end, out, block);
}

/**
 * creditsRange through wasm; false (nothing done) when the JavaScript loop should run instead
 * (also for rows that are not float32: the wasm walk reads float32 rows only).
 */
export function wasmCreditsRange(f: PackedForest, rows: ArrayLike<number>, start: number, end: number, out: Float64Array): boolean {
  if (preferred !== 'wasm' || !(rows instanceof Float32Array)) return false;
  const k = wasmKernels();
  if (k === null) return false;
  return k.credits.credits(f, rows, start, end, out);
}
