/**
 * A JSON array written one element per line, so that a page of it can be read without parsing
 * the rest: anomalies.json is 50,000 rows (~90 MB) on a 1M-row upload, and the page shows 25.
 *
 *   [
 *   {...},
 *   {...}
 *   ]
 *
 * It stays one valid JSON array (JSON.parse gives the same elements as JSON.stringify(items)
 * would). JSON.stringify escapes line breaks inside strings, so every raw '\n' is a separator.
 */
import { type FileHandle, open } from 'node:fs/promises';

const FLUSH_BYTES = 4 << 20;

/** Writes `items` as a line-per-element JSON array (in pieces: memory stays bounded). */
export async function writeJsonLinesArray(path: string, items: readonly unknown[]): Promise<void> {
  await writeJsonLines(path, items.length, (i) => items[i]);
}

/**
 * Writes `count` elements, element i being `itemAt(i)` (made when written, so they need not all be
 * in memory at once), as a line-per-element JSON array: the same bytes as writeJsonLinesArray.
 */
export async function writeJsonLines(path: string, count: number, itemAt: (i: number) => unknown): Promise<void> {
  // Each element is encoded into one buffer as soon as it is made (its string dies young: little
  // for the garbage collector to copy) and the buffer is written in pieces of about FLUSH_BYTES.
  let buf = Buffer.allocUnsafe(2 * FLUSH_BYTES);
  let pos = 0;
  const fh = await open(path, 'w');
  try {
    pos += buf.write('[\n', pos, 'latin1');
    for (let i = 0; i < count; i++) {
      const s = JSON.stringify(itemAt(i));
      const need = s.length * 3 + 2;
      if (pos + need > buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + need));
        buf.copy(grown, 0, 0, pos);
        buf = grown;
      }
      pos += buf.write(s, pos, 'utf8');
      pos += buf.write(i + 1 < count ? ',\n' : '\n', pos, 'latin1');
      if (pos >= FLUSH_BYTES) {
        await writeAll(fh, buf, pos);
        pos = 0;
      }
    }
    pos += buf.write(']\n', pos, 'latin1');
    await writeAll(fh, buf, pos);
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, length: number): Promise<void> {
  let off = 0;
  while (off < length) off += (await fh.write(buf, off, length - off)).bytesWritten;
}

/**
 * Byte offsets of the elements of a line-per-element JSON array: element i is the bytes
 * [starts[i], starts[i + 1]) less its trailing ',\n' or '\n'. Length = element count + 1.
 * Null when the file is not in that layout (e.g. written by JSON.stringify in one line).
 */
export async function jsonLinesIndex(path: string): Promise<Float64Array | null> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const chunk = Buffer.allocUnsafe(Math.min(Math.max(size, 1), FLUSH_BYTES));
    let starts = new Float64Array(1024);
    let count = 0;
    let pos = 0;
    while (pos < size) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, size - pos), pos);
      if (bytesRead === 0) break;
      const view = chunk.subarray(0, bytesRead);
      for (let nl = view.indexOf(10); nl !== -1; nl = view.indexOf(10, nl + 1)) {
        if (count === starts.length) {
          const grown = new Float64Array(starts.length * 2);
          grown.set(starts);
          starts = grown;
        }
        starts[count++] = pos + nl + 1;
      }
      pos += bytesRead;
    }
    // Lines: '[', the elements, ']'. starts[0] is the first element, starts[count - 2] the ']' line.
    if (count < 2) return null;
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    if (head.toString('latin1') !== '[\n') return null;
    return starts.slice(0, count - 1);
  } finally {
    await fh.close();
  }
}

/** Elements [from, to) of a line-per-element JSON array, by its index. */
export async function readJsonLinesRange<T>(path: string, index: Float64Array, from: number, to: number): Promise<T[]> {
  const n = index.length - 1;
  const a = Math.max(0, Math.min(from, n));
  const b = Math.max(a, Math.min(to, n));
  if (a === b) return [];
  const start = index[a];
  const end = index[b];
  const buf = Buffer.allocUnsafe(end - start);
  const fh = await open(path, 'r');
  try {
    let filled = 0;
    while (filled < buf.length) {
      const { bytesRead } = await fh.read(buf, filled, buf.length - filled, start + filled);
      if (bytesRead === 0) throw new Error(`${path} is shorter than its index`);
      filled += bytesRead;
    }
  } finally {
    await fh.close();
  }
  // The last element of the range ends with ',\n' (or '\n' for the array's last): drop it.
  let text = buf.toString('utf8').trimEnd();
  if (text.endsWith(',')) text = text.slice(0, -1);
  return JSON.parse(`[${text}]`) as T[];
}
