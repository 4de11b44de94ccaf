/**
 * A small binary container for an analysis's large tables (anomalies.bin, incidents.bin): named
 * sections of typed arrays and of texts, described by a JSON header, so writing one is a few
 * copies and reading one gives typed-array views of the file's bytes, not parsed objects.
 *
 * Layout (little-endian):
 *   magic                           8 bytes ASCII
 *   u32 header length, header JSON  { ...the caller's fields, sections: { name: [offset, count, kind] } },
 *                                   padded with spaces so the sections start at a multiple of 8
 *   sections                        each at its offset (a multiple of 8): a typed array, or texts as
 *                                   Float64 offsets[count + 1] and then their UTF-8 bytes
 */

import { open } from 'node:fs/promises';

export type SectionKind = 'i32' | 'f64' | 'u8' | 'text';
export type SectionData = Int32Array | Float64Array | Uint8Array | readonly string[];

type Typed = Int32Array | Float64Array | Uint8Array;

const MAGIC_BYTES = 8;
const align8 = (n: number) => (n + 7) & ~7;

function kindOf(data: SectionData): SectionKind {
  if (Array.isArray(data)) return 'text';
  return data instanceof Int32Array ? 'i32' : data instanceof Float64Array ? 'f64' : 'u8';
}

/** The texts as Float64 offsets[count + 1] followed by their UTF-8 bytes. */
function textBytes(texts: readonly string[]): Uint8Array {
  let size = 0;
  for (const t of texts) size += t.length * 3;
  const offsetBytes = 8 * (texts.length + 1);
  const out = Buffer.allocUnsafe(offsetBytes + size);
  const offsets = new Float64Array(texts.length + 1);
  let pos = 0;
  for (let k = 0; k < texts.length; k++) {
    offsets[k] = pos;
    pos += out.write(texts[k], offsetBytes + pos, 'utf8');
  }
  offsets[texts.length] = pos;
  out.set(new Uint8Array(offsets.buffer), 0);
  return out.subarray(0, offsetBytes + pos);
}

/**
 * The file's bytes as pieces to write in order (writeSectionsFile; Buffer.concat gives the file):
 * `magic` (8 ASCII characters), the header (`fields` plus the section table), the sections. Typed
 * arrays are viewed, not copied, so a file of tens of MB costs no second copy in memory.
 */
export function encodeSections(magic: string, fields: Record<string, unknown>, sections: readonly (readonly [string, SectionData])[]): Uint8Array[] {
  if (magic.length !== MAGIC_BYTES) throw new Error(`magic must be ${MAGIC_BYTES} characters`);
  const parts = sections.map(([name, data]) => {
    const kind = kindOf(data);
    const bytes = kind === 'text' ? textBytes(data as readonly string[]) : new Uint8Array((data as Typed).buffer, (data as Typed).byteOffset, (data as Typed).byteLength);
    return { name, kind, count: data.length, bytes };
  });
  const table: Record<string, [number, number, SectionKind]> = {};
  const layout = (base: number) => {
    let at = base;
    for (const p of parts) {
      table[p.name] = [at, p.count, p.kind];
      at = align8(at + p.bytes.byteLength);
    }
    return at;
  };
  // The header lists the sections' offsets, which depend on the header's length: settle it.
  let headerLength = 0;
  let text = '';
  for (;;) {
    const base = align8(MAGIC_BYTES + 4 + headerLength);
    layout(base);
    text = JSON.stringify({ ...fields, sections: table });
    const length = Buffer.byteLength(text);
    if (align8(MAGIC_BYTES + 4 + length) === base) {
      headerLength = base - MAGIC_BYTES - 4;
      break;
    }
    headerLength = length;
  }
  const start = Buffer.alloc(MAGIC_BYTES + 4 + headerLength);
  start.write(magic, 0, 'latin1');
  start.writeUInt32LE(headerLength, MAGIC_BYTES);
  start.write(text.padEnd(headerLength, ' '), MAGIC_BYTES + 4, 'utf8');
  const pieces: Uint8Array[] = [start];
  let at = start.length;
  for (const p of parts) {
    const gap = table[p.name][0] - at;
    if (gap > 0) pieces.push(new Uint8Array(gap)); // zero padding up to the section's offset
    pieces.push(p.bytes);
    at = table[p.name][0] + p.bytes.byteLength;
  }
  return pieces;
}

/** Writes encodeSections' pieces as one file (one writev; no concatenated copy). */
export async function writeSectionsFile(path: string, pieces: readonly Uint8Array[]): Promise<void> {
  const fh = await open(path, 'w');
  try {
    let list = [...pieces];
    while (list.length > 0) {
      let written = (await fh.writev(list)).bytesWritten;
      // A short write: go on from the first byte not written.
      let k = 0;
      while (k < list.length && written >= list[k].byteLength) written -= list[k++].byteLength;
      list = k < list.length ? [list[k].subarray(written), ...list.slice(k + 1)] : [];
    }
  } finally {
    await fh.close();
  }
}

/** A decoded container: its header fields, and views of its sections. */
export class Sections<H> {
  private constructor(
    private readonly buf: Buffer,
    readonly header: H,
    private readonly table: Readonly<Record<string, readonly [number, number, SectionKind]>>,
  ) {}

  /** Checks the magic and that every section lies inside the file; throws an Error naming the problem. */
  static decode<H>(bytes: Buffer, magic: string, what: string): Sections<H> {
    // Typed views need their offsets aligned: a buffer from a pool may not start at a multiple of 8.
    const buf = bytes.byteOffset % 8 === 0 ? bytes : Buffer.from(Uint8Array.prototype.slice.call(bytes).buffer);
    if (buf.length < MAGIC_BYTES + 4 || buf.toString('latin1', 0, MAGIC_BYTES) !== magic) throw new Error(`Not a ${what} file`);
    const headerLength = buf.readUInt32LE(MAGIC_BYTES);
    const { sections, ...header } = JSON.parse(buf.toString('utf8', MAGIC_BYTES + 4, MAGIC_BYTES + 4 + headerLength)) as {
      sections: Record<string, [number, number, SectionKind]>;
    };
    for (const [name, [at, count, kind]] of Object.entries(sections)) {
      const bytes = kind === 'text' ? 8 * (count + 1) : count * (kind === 'u8' ? 1 : kind === 'i32' ? 4 : 8);
      if (at % 8 !== 0 || at + bytes > buf.length) throw new Error(`${what}: section ${name} is out of bounds`);
    }
    return new Sections<H>(buf, header as H, sections);
  }

  private entry(name: string, kind: SectionKind): readonly [number, number] {
    const e = this.table[name];
    if (e === undefined || e[2] !== kind) throw new Error(`no ${kind} section ${name}`);
    return [this.buf.byteOffset + e[0], e[1]];
  }

  i32(name: string): Int32Array {
    const [at, count] = this.entry(name, 'i32');
    return new Int32Array(this.buf.buffer, at, count);
  }

  f64(name: string): Float64Array {
    const [at, count] = this.entry(name, 'f64');
    return new Float64Array(this.buf.buffer, at, count);
  }

  u8(name: string): Uint8Array {
    const [at, count] = this.entry(name, 'u8');
    return new Uint8Array(this.buf.buffer, at, count);
  }

  /** Text k of a text section. */
  text(name: string, k: number): string {
    const [at, count] = this.entry(name, 'text');
    const offsets = new Float64Array(this.buf.buffer, at, count + 1);
    const blob = at - this.buf.byteOffset + offsets.byteLength;
    return this.buf.toString('utf8', blob + offsets[k], blob + offsets[k + 1]);
  }
}
