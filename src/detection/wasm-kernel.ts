/**
 * The heap-order scoring loop (kernel.ts, `heapPathSums`) as WebAssembly: the same walk, the same
 * float32-row against float64-threshold comparisons and the same tree-order sums, so the path sums
 * are bit-identical; measured ~1.7× faster than the JavaScript loop on 1M rows × 100 trees (no
 * typed-array bounds checks, the comparison result used directly as the branch offset). Built at
 * run time by lib/wasm.ts; where WebAssembly is unavailable the JavaScript loop runs instead.
 *
 * Each thread has its own instance and memory: the forest is copied in once per forest (a few
 * hundred KB), rows go through in chunks of CHUNK_ROWS (copied in, summed, copied out), so memory
 * stays bounded and the callers' SharedArrayBuffers need not live in wasm memory.
 */
import { encodeModule, I, Op } from '../lib/wasm.ts';
import type { HeapForest, PackedForest } from './kernel.ts';

/** Rows copied into wasm memory per call. */
const CHUNK_ROWS = 16_384;
/** Rows walking a tree in lock step (independent chains of loads keep the CPU busy). */
const LANES = 8;

// Parameters of `pathSums` (byte addresses are i32s into the module's memory).
const P_ROWS = 0; // float32 rows, row-major
const P_COLS = 1;
const P_COUNT = 2; // rows to sum: out[0 .. count)
const P_FEATURE = 3; // int32 per heap slot
const P_THRESHOLD = 4; // float64 per heap slot
const P_LEAF = 5; // float64 per bottom slot
const P_HEAP_BASE = 6; // int32 per tree
const P_LEAF_BASE = 7; // int32 per tree
const P_DEPTH = 8; // int32 per tree
const P_TREES = 9;
const P_OUT = 10; // float64 per row
const P_BLOCK = 11; // rows per block, tree-major inside a block
const PARAMS = 12;
// Locals.
let nextLocal = PARAMS;
const local = () => nextLocal++;
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

const { get, set, i32, whileLoop } = I;

/** s = 2s + 1 + (rows[a + 4·feature[s]] > threshold[s]) for lane k. */
function step(k: number): number[] {
  return [
    ...get(S[k]), ...i32(1), Op.i32Shl, ...i32(1), Op.i32Add,
    ...get(A[k]), ...get(FB), ...get(S[k]), ...i32(2), Op.i32Shl, Op.i32Add, ...I.i32Load(), ...i32(2), Op.i32Shl, Op.i32Add,
    ...I.f32Load(), Op.f64PromoteF32,
    ...get(TB), ...get(S[k]), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Load(),
    Op.f64Gt, Op.i32Add, ...set(S[k]),
  ];
}

/** out[r + k] += leaf[lb + 8·s] for lane k. */
function accumulate(k: number): number[] {
  const outAddress = [...get(P_OUT), ...get(R), ...i32(k), Op.i32Add, ...i32(3), Op.i32Shl, Op.i32Add];
  return [
    ...outAddress,
    ...outAddress, ...I.f64Load(),
    ...get(LB), ...get(S[k]), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Load(),
    Op.f64Add, ...I.f64Store(),
  ];
}

/** Rows r .. r + lanes - 1 down the current tree; then r += lanes. */
function lanes(n: number): number[] {
  const start: number[] = [];
  const steps: number[] = [];
  const sums: number[] = [];
  for (let k = 0; k < n; k++) {
    start.push(...get(P_ROWS), ...get(R), ...i32(k), Op.i32Add, ...get(ROW_BYTES), Op.i32Mul, Op.i32Add, ...set(A[k]), ...i32(0), ...set(S[k]));
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
}

/** The `pathSums` function's instructions. */
function pathSumsBody(): number[] {
  const word = (base: number, index: number) => [...get(base), ...get(index), ...i32(2), Op.i32Shl, Op.i32Add, ...I.i32Load()];
  return [
    ...get(P_COLS), ...i32(2), Op.i32Shl, ...set(ROW_BYTES),
    ...i32(0), ...set(B0),
    ...whileLoop([...get(B0), ...get(P_COUNT), Op.i32LtS], [
      // b1 = min(count, b0 + block)
      ...get(B0), ...get(P_BLOCK), Op.i32Add, ...get(P_COUNT),
      ...get(B0), ...get(P_BLOCK), Op.i32Add, ...get(P_COUNT), Op.i32LtS, Op.select, ...set(B1),
      // out[b0 .. b1) = 0
      ...get(B0), ...set(R),
      ...whileLoop([...get(R), ...get(B1), Op.i32LtS], [
        ...get(P_OUT), ...get(R), ...i32(3), Op.i32Shl, Op.i32Add, ...I.f64Zero(), ...I.f64Store(),
        ...get(R), ...i32(1), Op.i32Add, ...set(R),
      ]),
      ...i32(0), ...set(T),
      ...whileLoop([...get(T), ...get(P_TREES), Op.i32LtS], [
        ...word(P_DEPTH, T), ...set(STEPS),
        ...word(P_HEAP_BASE, T), ...set(D), // D holds heapBase[t] for the next two lines
        ...get(P_FEATURE), ...get(D), ...i32(2), Op.i32Shl, Op.i32Add, ...set(FB),
        ...get(P_THRESHOLD), ...get(D), ...i32(3), Op.i32Shl, Op.i32Add, ...set(TB),
        ...get(P_LEAF), ...word(P_LEAF_BASE, T), ...i32(1), ...get(STEPS), Op.i32Shl, ...i32(1), Op.i32Sub, Op.i32Sub,
        ...i32(3), Op.i32Shl, Op.i32Add, ...set(LB),
        ...get(B0), ...set(R),
        ...whileLoop([...get(R), ...i32(LANES), Op.i32Add, ...get(B1), Op.i32LeS], lanes(LANES)),
        ...whileLoop([...get(R), ...get(B1), Op.i32LtS], lanes(1)),
        ...get(T), ...i32(1), Op.i32Add, ...set(T),
      ]),
      ...get(B0), ...get(P_BLOCK), Op.i32Add, ...set(B0),
    ]),
  ];
}

interface PathSumsExport {
  (...args: number[]): void;
}

const PAGE = 65_536;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/** One thread's wasm scorer: its memory holds one forest, then a chunk of rows and their sums. */
class WasmScorer {
  private readonly memory: WebAssembly.Memory;
  private readonly run: PathSumsExport;
  private forest: HeapForest | null = null;
  private cols = 0;
  private layout = { feature: 0, threshold: 0, leaf: 0, heapBase: 0, leafBase: 0, depth: 0, rows: 0, out: 0 };

  constructor(module: WebAssembly.Module) {
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.run = instance.exports.pathSums as PathSumsExport;
  }

  /** Copies the forest in (when it is not the one held) and sizes the memory for its chunks. */
  private load(f: PackedForest, hf: HeapForest): void {
    if (this.forest === hf && this.cols === f.cols) return;
    const slots = hf.feature.length;
    const feature = 0;
    const threshold = align(feature + 4 * slots, 8);
    const leaf = threshold + 8 * slots;
    const heapBase = leaf + 8 * hf.leaf.length;
    const leafBase = heapBase + 4 * f.nTrees;
    const depth = leafBase + 4 * f.nTrees;
    const rows = align(depth + 4 * f.nTrees, 16);
    const out = align(rows + 4 * f.cols * CHUNK_ROWS, 16);
    const bytes = out + 8 * CHUNK_ROWS;
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    const buffer = this.memory.buffer;
    new Int32Array(buffer, feature, slots).set(hf.feature);
    new Float64Array(buffer, threshold, slots).set(hf.threshold);
    new Float64Array(buffer, leaf, hf.leaf.length).set(hf.leaf);
    new Int32Array(buffer, heapBase, f.nTrees).set(hf.heapBase.subarray(0, f.nTrees));
    new Int32Array(buffer, leafBase, f.nTrees).set(hf.leafBase.subarray(0, f.nTrees));
    new Int32Array(buffer, depth, f.nTrees).set(f.depth.subarray(0, f.nTrees));
    this.layout = { feature, threshold, leaf, heapBase, leafBase, depth, rows, out };
    this.forest = hf;
    this.cols = f.cols;
  }

  /** heapPathSums: rows [start, end) into out[0 .. end - start), in blocks of `block` rows. */
  pathSums(f: PackedForest, hf: HeapForest, rows: Float32Array, start: number, end: number, out: Float64Array, block: number): void {
    this.load(f, hf);
    const L = this.layout;
    const cols = f.cols;
    const buffer = this.memory.buffer;
    const chunkRows = new Float32Array(buffer, L.rows, cols * CHUNK_ROWS);
    const chunkOut = new Float64Array(buffer, L.out, CHUNK_ROWS);
    for (let c0 = start; c0 < end; c0 += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, end - c0);
      chunkRows.set(rows.subarray(c0 * cols, (c0 + count) * cols));
      this.run(L.rows, cols, count, L.feature, L.threshold, L.leaf, L.heapBase, L.leafBase, L.depth, f.nTrees, L.out, block);
      out.set(chunkOut.subarray(0, count), c0 - start);
    }
  }
}

let preferred: 'wasm' | 'js' = 'wasm';
let scorer: WasmScorer | null | undefined;

/**
 * Which scoring loop runs: 'wasm' (the default, where WebAssembly works) or 'js'. Both give the
 * same sums bit for bit; 'js' is for comparing them (tests, benchmarks).
 */
export function setScoringKernel(kind: 'wasm' | 'js'): void {
  preferred = kind;
}

/** The loop that will run: 'wasm' when preferred and available, else 'js'. */
export function scoringKernel(): 'wasm' | 'js' {
  return preferred === 'wasm' && wasmScorer() !== null ? 'wasm' : 'js';
}

/** This thread's scorer, made on first use; null when WebAssembly is unavailable. */
function wasmScorer(): WasmScorer | null {
  if (scorer === undefined) {
    try {
      const module = new WebAssembly.Module(
        encodeModule([{ name: 'pathSums', params: PARAMS, i32Locals: nextLocal - PARAMS, body: pathSumsBody() }]),
      );
      scorer = new WasmScorer(module);
    } catch {
      scorer = null;
    }
  }
  return scorer;
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
  const s = wasmScorer();
  if (s === null) return false;
  s.pathSums(f, hf, rows, start, end, out, block);
  return true;
}
