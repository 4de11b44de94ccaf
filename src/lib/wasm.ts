/**
 * A small WebAssembly encoder: enough to build, at run time, a module of a few functions over one
 * imported memory, with i32 parameters and i32 / f64 locals. Hot loops that V8 cannot make fast
 * enough from JavaScript (typed-array bounds checks, boolean-to-number conversions) are written with
 * it as instruction lists (see detection/wasm-kernel.ts): no toolchain, no binary in the repository.
 * Only the instructions those loops use are named here; the byte values are the spec's
 * (https://webassembly.github.io/spec/core/binary/instructions.html).
 */

/** Instruction opcodes. Memory instructions take an alignment (log2 bytes) and an offset after them. */
export const Op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  select: 0x1b,
  localGet: 0x20,
  localSet: 0x21,
  i32Load: 0x28,
  f32Load: 0x2a,
  f64Load: 0x2b,
  f64Store: 0x39,
  i32Const: 0x41,
  f64Const: 0x44,
  i32Eqz: 0x45,
  i32LtS: 0x48,
  i32GtS: 0x4a,
  i32LeS: 0x4c,
  i32Eq: 0x46,
  f64Lt: 0x63,
  f64Gt: 0x64,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32Or: 0x72,
  i32Shl: 0x74,
  f64Add: 0xa0,
  f64Sub: 0xa1,
  f64Mul: 0xa2,
  f64Div: 0xa3,
  f64ConvertI32S: 0xb7,
  f64PromoteF32: 0xbb,
} as const;

/** The empty block type (a block or loop that leaves nothing on the stack). */
const VOID = 0x40;
const I32 = 0x7f;
const F64 = 0x7c;

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (32-bit). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Instruction helpers: each returns the bytes of one instruction (or a short sequence). */
export const I = {
  get: (local: number) => [Op.localGet, ...uleb(local)],
  set: (local: number) => [Op.localSet, ...uleb(local)],
  i32: (value: number) => [Op.i32Const, ...sleb(value)],
  f64: (value: number) => {
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setFloat64(0, value, true); // wasm constants are little-endian
    return [Op.f64Const, ...new Uint8Array(bytes.buffer)];
  },
  f64Zero: () => [Op.f64Const, 0, 0, 0, 0, 0, 0, 0, 0],
  /** Loads and stores: natural alignment, a constant byte offset added to the address (default 0). */
  i32Load: (offset = 0) => [Op.i32Load, 2, ...uleb(offset)],
  f32Load: () => [Op.f32Load, 2, 0],
  f64Load: () => [Op.f64Load, 3, 0],
  f64Store: () => [Op.f64Store, 3, 0],
  /** `if (cond) then else otherwise`: cond leaves an i32 on the stack. */
  ifElse: (then: readonly number[], otherwise: readonly number[]) => [Op.if, VOID, ...then, Op.else, ...otherwise, Op.end],
  /** `while (cond) body`: cond leaves an i32 on the stack. */
  whileLoop: (cond: readonly number[], body: readonly number[]) => [
    Op.block, VOID, Op.loop, VOID, ...cond, Op.i32Eqz, Op.brIf, 1, ...body, Op.br, 0, Op.end, Op.end,
  ],
};

export interface WasmFunction {
  readonly name: string;
  /** Number of i32 parameters (locals 0 .. params-1). */
  readonly params: number;
  /** i32 locals after the parameters, then f64 locals after those. */
  readonly i32Locals: number;
  readonly f64Locals?: number;
  /** The instructions, without the final `end`. */
  readonly body: readonly number[];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

function vector(items: readonly (readonly number[])[]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, bytes: readonly number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/**
 * A module importing `env.memory` (non-shared, at least `minPages` pages of 64 KiB) and exporting
 * each function by name. Functions return nothing.
 */
export function encodeModule(functions: readonly WasmFunction[], minPages = 1): Uint8Array {
  const types = functions.map((f) => [0x60, ...vector(Array.from({ length: f.params }, () => [I32])), 0]);
  const memoryImport = [...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(minPages)];
  const bodies = functions.map((f) => {
    const locals: number[][] = [];
    if (f.i32Locals > 0) locals.push([...uleb(f.i32Locals), I32]);
    if ((f.f64Locals ?? 0) > 0) locals.push([...uleb(f.f64Locals!), F64]);
    const body = [...vector(locals), ...f.body, Op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
    ...section(1, vector(types)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
