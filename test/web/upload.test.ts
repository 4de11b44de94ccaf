import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { mulberry32 } from '../../src/lib/prng.ts';
import { BatchedFileWriter } from '../../src/web/upload.ts';

describe('BatchedFileWriter (uploads to disk)', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-writer-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** `total` bytes in pieces of random sizes (up to `maxPiece`), seeded. */
  function pieces(total: number, maxPiece: number, seed: number): Buffer[] {
    const rng = mulberry32(seed);
    const out: Buffer[] = [];
    let made = 0;
    while (made < total) {
      const n = Math.min(total - made, 1 + Math.floor(rng() * maxPiece));
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = (made + i) % 251;
      out.push(b);
      made += n;
    }
    return out;
  }

  it('when chunks arrive faster than the disk takes them, then the file holds them in order, byte for byte', async () => {
    for (const [k, [total, maxPiece]] of [[20 * 1024 * 1024, 256 * 1024], [3 * 1024 * 1024 + 17, 64 * 1024], [10, 3], [0, 1]].entries()) {
      const file = path.join(dir, `f${k}`);
      const chunks = pieces(total, maxPiece, k + 1);
      const writer = new BatchedFileWriter(file);
      await pipeline(Readable.from(chunks), writer);
      const written = await readFile(file);
      assert.equal(writer.bytesWritten, total);
      assert.ok(written.equals(Buffer.concat(chunks)), `case ${k}: the same bytes`);
    }
  });

  it('when a write to disk fails while more chunks arrive, then the upload fails with that error', async () => {
    const writer = new BatchedFileWriter(path.join(dir, 'failing'));
    const open = writer as unknown as { fh: { writev: () => Promise<never> } | null };
    while (open.fh === null) await new Promise((r) => setImmediate(r));
    let calls = 0;
    open.fh.writev = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('disk full');
    };
    await assert.rejects(pipeline(Readable.from(pieces(16 * 1024 * 1024, 65536, 4)), writer), /disk full/);
    assert.equal(calls, 1, 'no write after the failed one');
  });

  it('when the writer takes chunks, then its chunk hook sees each one once, in order (the parse while uploading)', async () => {
    const chunks = pieces(5 * 1024 * 1024 + 3, 70_000, 9);
    const seen: Buffer[] = [];
    await pipeline(Readable.from(chunks), new BatchedFileWriter(path.join(dir, 'hooked'), (c) => seen.push(c)));
    assert.equal(seen.length, chunks.length);
    assert.ok(Buffer.concat(seen).equals(Buffer.concat(chunks)));
  });

  it('when the file cannot be opened, then the pipeline fails with that error', async () => {
    const writer = new BatchedFileWriter(path.join(dir, 'missing-folder', 'f'));
    await assert.rejects(pipeline(Readable.from(pieces(4 * 1024 * 1024, 65536, 3)), writer), { code: 'ENOENT' });
  });
});
