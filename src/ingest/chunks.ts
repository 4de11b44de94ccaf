/**
 * Streaming a byte range of a file (or a buffer) record by record, in bounded memory: each read
 * chunk is handed to a consumer that takes the complete records and returns how many bytes it
 * used; the incomplete tail is carried into the next chunk.
 */
import { open } from 'node:fs/promises';
import { CsvTokenizer } from './tokenizer.ts';
import { CsvFormatError } from './types.ts';

export const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
/** A single record longer than this is refused (it would have to be held in memory whole). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/** Consumes complete records of `buf` (whose byte 0 is at file offset `base`); returns bytes used. */
export type ChunkConsumer = (buf: Buffer, base: number, isLast: boolean) => number;

/**
 * Reads file bytes [from, to) (to defaults to the end) in chunks and feeds `consume`; awaits
 * `afterChunk` (e.g. flushing output made from the chunk) before reading on.
 */
export async function streamFileChunks(
  path: string,
  consume: ChunkConsumer,
  from = 0,
  to = Infinity,
  chunkBytes = DEFAULT_CHUNK_BYTES,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const stop = Math.min(to, size);
    let pos = from;
    let leftover: Buffer | null = null;
    let base = from;
    for (;;) {
      const lenLeft: number = leftover === null ? 0 : leftover.length;
      if (lenLeft > MAX_RECORD_BYTES) {
        throw new CsvFormatError(`A single record is longer than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)`, 0, null);
      }
      const want = Math.max(0, Math.min(chunkBytes, stop - pos));
      const buf = Buffer.allocUnsafe(lenLeft + want);
      if (leftover !== null) leftover.copy(buf, 0);
      let filled: number = lenLeft;
      while (filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, pos);
        if (bytesRead === 0) break;
        filled += bytesRead;
        pos += bytesRead;
      }
      const data: Buffer = filled < buf.length ? buf.subarray(0, filled) : buf;
      const isLast = pos >= stop || filled < buf.length;
      const used = consume(data, base, isLast);
      if (afterChunk !== undefined) await afterChunk();
      if (isLast) return;
      leftover = data.subarray(used);
      base += used;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Calls `onRecord` for every record (blank lines included; check `tok.isBlank()`) whose bytes lie
 * in [from, to) of the file. `start` is the record's file offset; fields are read through `tok`.
 */
export async function scanFileRecords(
  path: string,
  from: number,
  to: number,
  onRecord: (buf: Buffer, tok: CsvTokenizer, start: number) => void,
  chunkBytes = DEFAULT_CHUNK_BYTES,
  afterChunk?: () => Promise<void>,
): Promise<void> {
  const tok = new CsvTokenizer();
  await streamFileChunks(
    path,
    (buf, base, isLast) => scanRecords(buf, base, isLast, tok, onRecord),
    from,
    to,
    chunkBytes,
    afterChunk,
  );
}

/** The same over a buffer already in memory. */
export function scanBufferRecords(
  source: Buffer,
  from: number,
  to: number,
  onRecord: (buf: Buffer, tok: CsvTokenizer, start: number) => void,
): void {
  scanRecords(source.subarray(from, to), from, true, new CsvTokenizer(), onRecord);
}

function scanRecords(
  buf: Buffer,
  base: number,
  isLast: boolean,
  tok: CsvTokenizer,
  onRecord: (buf: Buffer, tok: CsvTokenizer, start: number) => void,
): number {
  let p = 0;
  while (p < buf.length) {
    const next = tok.next(buf, p, isLast, 0);
    if (next < 0) break;
    onRecord(buf, tok, base + p);
    p = next;
  }
  return p;
}
