/**
 * Cutting a CSV byte stream into batches of whole records as it arrives, for parse workers that
 * each parse some of the batches (part.ts) and a merge that joins their tables (merge.ts).
 *
 * A cut goes right after a line feed where the count of quote bytes since the batch start is even.
 * In RFC 4180 CSV that is a record boundary: a quoted field holds an even number of quotes once
 * closed (its "" escapes included), so odd means inside one. The count is memchr-fast
 * (Buffer.indexOf): free in a file without quotes. A lenient file can fool it (a quote inside an
 * unquoted field, `ab"c`, is a literal character to the tokenizer): the worker of a batch checks
 * that its records end exactly at the cut, and the merge falls back to a plain parse when one did
 * not. When no cut is found in a full buffer (a long quoted field), the batch goes on: its bytes so
 * far are sent as a piece, and the batch ends at a later cut.
 */

const QUOTE = 0x22;
const LF = 0x0a;
/** The header must be within the file's first bytes (else the file is parsed whole, on one worker). */
const HEAD_BYTES = 64 * 1024;

/** What the splitter sends to the parse workers. */
export type PartMessage =
  /** The first batch's bytes (up to HEAD_BYTES), for a worker to read the header from before its batches. */
  | { readonly kind: 'header'; readonly bytes: Uint8Array; readonly beforeBatch: number }
  /**
   * Bytes of batch `batch`, whose first byte is at file offset `offset`. `closes`: the batch ends
   * with these bytes (at a record boundary, or at the end of the file when `final`).
   */
  | {
      readonly kind: 'piece';
      readonly batch: number;
      readonly offset: number;
      readonly bytes: Uint8Array;
      readonly closes: boolean;
      readonly final: boolean;
    };

/** Parity (0 even, 1 odd) of the quote bytes in buf[0, to). */
export function quoteParity(buf: Buffer, to: number): number {
  const view = to < buf.length ? buf.subarray(0, to) : buf;
  let n = 0;
  let p = view.indexOf(QUOTE);
  while (p >= 0) {
    n++;
    // Quotes are dense here (every field quoted?): counting words beats a native call per quote.
    if (n === 32) return (n + denseQuoteParity(view, p + 1, to)) & 1;
    p = view.indexOf(QUOTE, p + 1);
  }
  return n & 1;
}

/** Parity of the quote bytes in buf[from, to), four bytes at a time. */
function denseQuoteParity(buf: Buffer, from: number, to: number): number {
  let parity = 0;
  let i = from;
  while (i < to && (buf.byteOffset + i) % 4 !== 0) parity ^= buf[i++] === QUOTE ? 1 : 0;
  if (i === to) return parity;
  const words = new Uint32Array(buf.buffer, buf.byteOffset + i, (to - i) >> 2);
  // Per word: a high bit set in each byte that is a quote (exact, no borrows between bytes); the
  // parity of a sum of bit counts is the parity of the bit count of their XOR.
  let acc = 0;
  for (let k = 0; k < words.length; k++) {
    const x = words[k] ^ 0x22222222;
    acc ^= ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x) & 0x80808080;
  }
  acc ^= acc >>> 16;
  acc ^= acc >>> 8;
  parity ^= (acc >>> 7) & 1;
  for (i += words.length * 4; i < to; i++) parity ^= buf[i] === QUOTE ? 1 : 0;
  return parity;
}

/**
 * The position just after the last line feed of buf[0, to) at which the quote count since
 * buf[0] (plus `parity`, the count's parity before buf[0]) is even; -1 when there is none.
 */
export function findRecordCut(buf: Buffer, to: number, parity: number): number {
  // Walk back from the end, segment by segment between quotes: a segment's parity is constant.
  let p = parity ^ quoteParity(buf, to);
  let pos = to;
  for (;;) {
    const q = pos > 0 ? buf.lastIndexOf(QUOTE, pos - 1) : -1;
    if (p === 0) {
      const lf = pos > 0 ? buf.lastIndexOf(LF, pos - 1) : -1;
      if (lf > q) return lf + 1;
    }
    if (q < 0) return -1;
    pos = q;
    p ^= 1;
  }
}

/**
 * A batch's buffer, on shared memory: posted to a worker, it is shared, not copied, and no
 * ArrayBuffer is detached (as a transfer would): the first detach in a thread makes V8 drop the
 * optimized code of every typed-array loop and compile it again with detach checks, which slowed
 * the analysis that follows an upload on this thread by about 5 %. A buffer is never written after
 * it is sent.
 */
function batchBuffer(bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes));
}

/**
 * Receives the bytes of a file in pieces of any size and sends them on as batches of about
 * `batchBytes` (whole records). A batch goes to the worker with the fewest bytes not yet parsed
 * (workers report each batch they finish: `parsed`), so a worker slowed down by other work gets
 * less; ties go to the lowest index, so batch 0 goes to worker 0 and, when no report comes in
 * between, batches alternate. A worker other than 0 first gets the first batch's bytes to read the
 * header from. `plan` records each batch's worker. With one worker nothing is cut: the file is one
 * batch, sent in pieces.
 */
export class BatchSplitter {
  /** The worker of each batch sent so far. */
  readonly plan: number[] = [];
  /** Bytes sent of each batch, and of each worker's batches not reported parsed yet. */
  private readonly sent: number[] = [];
  private readonly pending: number[];
  private buf: Buffer;
  private filled = 0;
  /** File offset of buf[0]. */
  private offset = 0;
  /** The batch the buffered bytes belong to, and whether pieces of it were sent already. */
  private batch = 0;
  private batchStarted = false;
  /** Quote parity from the batch's start to buf[0]. */
  private parity = 0;
  /**
   * A copy of the first batch's bytes (up to HEAD_BYTES) while some worker has yet to read the
   * header from it. Only the first batch's: a worker reading the header from bytes of the batches
   * it parses would count the header as a row.
   */
  private head: Buffer | null = null;
  private headFull = false;
  private readonly hasHeader: boolean[];

  constructor(
    private readonly send: (worker: number, msg: PartMessage) => void,
    private readonly workers: number,
    private readonly batchBytes: number,
  ) {
    this.buf = batchBuffer(batchBytes);
    this.hasHeader = Array.from({ length: workers }, (_, w) => w === 0);
    this.pending = new Array<number>(workers).fill(0);
  }

  /** The worker of batch `batch` has parsed it. */
  parsed(batch: number): void {
    this.pending[this.plan[batch]] -= this.sent[batch];
  }

  push(chunk: Buffer): void {
    let p = 0;
    while (p < chunk.length) {
      const n = Math.min(chunk.length - p, this.buf.length - this.filled);
      chunk.copy(this.buf, this.filled, p, p + n);
      this.filled += n;
      p += n;
      if (this.filled === this.buf.length) this.cut();
    }
  }

  /** No more bytes: sends the last batch (the file's end closes it). */
  end(): void {
    if (this.filled > 0 || this.batchStarted || this.batch === 0) this.sendPiece(this.filled, true, true);
    this.head = null;
  }

  /** The buffer is full: sends it up to its last record boundary, or all of it as a piece. */
  private cut(): void {
    if (this.workers === 1) {
      this.sendPiece(this.filled, false, false);
      return;
    }
    const at = findRecordCut(this.buf, this.filled, this.parity);
    if (at > 0) {
      this.sendPiece(at, true, false);
      return;
    }
    this.parity ^= quoteParity(this.buf, this.filled);
    this.sendPiece(this.filled, false, false);
  }

  /** Sends buf[0, n) as the next piece of the current batch; keeps buf[n, filled) for the next. */
  private sendPiece(n: number, closes: boolean, final: boolean): void {
    if (!this.batchStarted) {
      let least = 0;
      for (let w = 1; w < this.workers; w++) if (this.pending[w] < this.pending[least]) least = w;
      this.plan.push(least);
      this.sent.push(0);
      this.batchStarted = true;
    }
    const worker = this.plan[this.batch];
    this.sent[this.batch] += n;
    this.pending[worker] += n;
    if (this.batch === 0 && this.workers > 1 && !this.headFull) {
      const more = this.buf.subarray(0, Math.min(n, HEAD_BYTES - (this.head?.length ?? 0)));
      this.head = this.head === null ? Buffer.from(more) : Buffer.concat([this.head, more]);
      this.headFull = this.head.length === HEAD_BYTES;
    }
    if (!this.hasHeader[worker] && this.head !== null) {
      this.send(worker, { kind: 'header', bytes: this.head, beforeBatch: this.batch });
      this.hasHeader[worker] = true;
      if (this.hasHeader.every(Boolean)) this.head = null;
    }
    const bytes = new Uint8Array(this.buf.buffer, this.buf.byteOffset, n);
    const rest = this.filled - n;
    const next = final ? null : batchBuffer(this.batchBytes);
    if (next !== null && rest > 0) this.buf.copy(next, 0, n, this.filled);
    this.send(worker, { kind: 'piece', batch: this.batch, offset: this.offset, bytes, closes, final });
    this.offset += n;
    if (closes) {
      this.batch++;
      this.batchStarted = false;
      this.parity = 0;
    }
    if (next !== null) {
      this.buf = next;
      this.filled = rest;
    } else {
      this.filled = 0;
    }
  }
}
