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

/** Bytes a push-fed parse gathers before consuming them (createCsvParser's default chunk). */
export const DEFAULT_PUSH_BYTES = 1024 * 1024;
/** Above this carried tail, a push consumer waits for as many new bytes as it carries (up to a read chunk). */
const LONG_TAIL_BYTES = 64 * 1024;

/**
 * The push side of streamFileChunks: bytes arrive in pieces of any size (e.g. from a network
 * stream); once `chunkBytes` have gathered they go to `consume` with the incomplete tail of the last
 * call in front, exactly as streamFileChunks would hand them over with other read sizes. A long
 * record is not re-tokenized for every small piece: with a tail over 64 KiB it waits for as many
 * new bytes as the tail (at most DEFAULT_CHUNK_BYTES), so work stays linear. A tail longer than
 * `maxRecordBytes` is refused with streamFileChunks' error.
 */
export class ChunkPusher {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private leftover: Buffer | null = null;
  private base = 0;

  constructor(
    private readonly consume: ChunkConsumer,
    private readonly chunkBytes = DEFAULT_PUSH_BYTES,
    private readonly maxRecordBytes = MAX_RECORD_BYTES,
  ) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes < this.chunkBytes) return;
    const carried = this.leftover === null ? 0 : this.leftover.length;
    if (carried > LONG_TAIL_BYTES && this.pendingBytes < Math.min(carried, DEFAULT_CHUNK_BYTES)) return;
    this.flush(false);
  }

  /** The last bytes have been pushed. */
  end(): void {
    this.flush(true);
  }

  /**
   * The bytes pushed so far should end with a whole record (more may follow, so a record is not
   * taken as ended by the end of the bytes): consumes them all; false when a record is left
   * incomplete (its bytes stay carried).
   */
  endAtRecord(): boolean {
    this.flush(false);
    return this.leftover === null;
  }

  private flush(isLast: boolean): void {
    const lenLeft = this.leftover === null ? 0 : this.leftover.length;
    if (lenLeft > this.maxRecordBytes) {
      throw new CsvFormatError(`A single record is longer than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)`, 0, null);
    }
    const parts = this.leftover === null ? this.pending : [this.leftover, ...this.pending];
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts, lenLeft + this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    const used = this.consume(data, this.base, isLast);
    if (isLast) return;
    // A copy, so the tail does not keep the whole chunk (or the caller's buffer) alive.
    this.leftover = used < data.length ? Buffer.from(data.subarray(used)) : null;
    this.base += used;
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
