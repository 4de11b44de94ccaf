/** createCsvParser (push-fed, e.g. during an upload) gives parseCsvFile's table or error wherever the bytes are cut. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChunkPusher, createCsvParser, createThreadedCsvParser, CsvFormatError, type CsvOptions, type FlowTable, MAX_RECORD_BYTES, parseCsvFile } from '../../src/ingest/index.ts';
import { DEFAULT_FEATURES, flowCsv } from '../helpers/csv.ts';
import { assertSame, type Outcome, outcome } from '../helpers/parse.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'csv');
const dir = await mkdtemp(join(tmpdir(), 'ingest-push-test-'));
after(() => rm(dir, { recursive: true, force: true }));
let fileNo = 0;
async function tempCsv(bytes: Buffer): Promise<string> {
  const p = join(dir, `p${fileNo++}.csv`);
  await writeFile(p, bytes);
  return p;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 4294967296;
  };
}

/** `bytes` cut at the given positions (sorted, inside the buffer). */
function cut(bytes: Buffer, at: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of at) {
    parts.push(bytes.subarray(from, p));
    from = p;
  }
  parts.push(bytes.subarray(from));
  return parts;
}


/** Pushes `parts` (each copied, so the parser can't lean on the caller's buffers) and ends with `source`. */
function pushed(parts: readonly Buffer[], source: string | Buffer, options: CsvOptions & { chunkBytes?: number }): Promise<FlowTable> {
  const parser = createCsvParser(options);
  return (async () => {
    for (const p of parts) parser.push(Buffer.from(p));
    return parser.end(source);
  })();
}


/** Compares push parsing (whole, byte by byte, random cuts, from a path and from a buffer) with parseCsvFile. */
async function assertLikeParseCsvFile(bytes: Buffer, options: CsvOptions = {}, seed = 1, byteByByte = true): Promise<Outcome> {
  const path = await tempCsv(bytes);
  const want = await outcome(() => parseCsvFile(path, options));
  assertSame(await outcome(() => pushed([bytes], path, options)), want, 'one chunk');
  assertSame(await outcome(() => pushed([bytes], bytes, options)), want, 'one chunk, buffer source');
  if (byteByByte) {
    assertSame(
      await outcome(() => pushed(cut(bytes, Array.from({ length: bytes.length - 1 }, (_, i) => i + 1)), path, { ...options, chunkBytes: 1 })),
      want,
      'byte by byte',
    );
  }
  const random = rng(seed);
  for (let k = 0; k < 5; k++) {
    const at = new Set<number>();
    const n = 1 + Math.floor(random() * 12);
    for (let i = 0; i < n; i++) at.add(1 + Math.floor(random() * Math.max(1, bytes.length - 1)));
    const positions = [...at].filter((p) => p < bytes.length).sort((a, b) => a - b);
    const chunkBytes = [1, 3, 17, 1024][k % 4];
    assertSame(await outcome(() => pushed(cut(bytes, positions), path, { ...options, chunkBytes })), want, `cut at ${positions.join(',')}, chunkBytes ${chunkBytes}`);
  }
  return want;
}

describe('createCsvParser', () => {
  for (const name of readdirSync(FIXTURES).sort()) {
    it(`when fixture ${name} is pushed in pieces, then it gives parseCsvFile's table or error`, async () => {
      await assertLikeParseCsvFile(await readFile(join(FIXTURES, name)));
    });
  }

  it('when a BOM, CRLF and a quoted field with a line break are cut at every byte, then the table is the same', async () => {
    const bytes = Buffer.from('\ufeffid,"note, with comma",value\r\n1,"say ""hi""",2.5\r\n\r\n2,"two\r\nlines",-3.5e1\r\n3,"x\ry",4\r', 'utf8');
    const path = await tempCsv(bytes);
    const want = await outcome(() => parseCsvFile(path));
    assert.ok('table' in want && want.table.rowCount === 3);
    for (let a = 1; a < bytes.length; a++) {
      for (const b of [a + 1, a + 5, bytes.length - 1]) {
        const at = b > a && b < bytes.length ? [a, b] : [a];
        assertSame(await outcome(() => pushed(cut(bytes, at), path, { chunkBytes: 1 })), want, `cut at ${at.join(',')}`);
      }
    }
  });

  it('when a flow CSV is pushed with the analysis options, then offsets, lines and columns match parseCsvFile', async () => {
    const bytes = Buffer.from(flowCsv({ rows: 400, anomalies: 4 }));
    const want = await assertLikeParseCsvFile(bytes, { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES });
    assert.ok('table' in want && want.table.rowCount === 404);
  });

  it('when a column turns into text or numbers after its first rows, then the early rows are re-read from the source', async () => {
    const rows = ['timestamp,amount,ts'];
    for (let i = 0; i < 200; i++) rows.push(`${i < 120 ? '' : 12 + i},${i},${i === 150 ? 'n/a' : 1_700_000_000_000 + i}`);
    rows.push('12,oops,13');
    const want = await assertLikeParseCsvFile(Buffer.from(rows.join('\n')));
    assert.ok('table' in want);
    assert.deepEqual(want.table.columns.map((c) => c.kind), ['numeric', 'category', 'category']);
  });

  it('when the bytes are wrong, then it throws the same positioned error, at push or at end', async () => {
    const bad = flowCsv({ rows: 50, cell: (row, col, v) => (row === 30 && col === 'packet_count' ? 'lots' : v) });
    const want = await assertLikeParseCsvFile(Buffer.from(bad), { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES });
    assert.ok('error' in want && want.error.line === 32 && want.error.columnName === 'packet_count');
    // Met while pushing: the first bytes past the bad row are enough, and the parser stays failed.
    const parser = createCsvParser({ numericColumns: DEFAULT_FEATURES, chunkBytes: 1 });
    assert.throws(() => parser.push(Buffer.from(bad)), (err: unknown) => err instanceof CsvFormatError && err.line === 32);
    assert.throws(() => parser.push(Buffer.from('1\n')), (err: unknown) => err instanceof CsvFormatError && err.line === 32);
    await assertLikeParseCsvFile(Buffer.from(flowCsv({ rows: 0, anomalies: 0 })));
    await assertLikeParseCsvFile(Buffer.from('a,b\n1,2\n3\n'));
  });

  it('when a record is longer than 64 KiB, then it is still parsed, and a tail over maxRecordBytes is refused', async () => {
    const long = 'y'.repeat(300_000);
    const bytes = Buffer.from(`a,b\n1,"${long}"\n2,z\n`);
    // (Not byte by byte: each byte would re-tokenize the first 64 KiB of the record, by design.)
    const want = await assertLikeParseCsvFile(bytes, {}, 7, false);
    assert.ok('table' in want && want.table.rowCount === 2);
    const parser = createCsvParser({ chunkBytes: 1024, maxRecordBytes: 100_000 });
    assert.throws(
      () => {
        for (let p = 0; p < bytes.length; p += 1000) parser.push(bytes.subarray(p, p + 1000));
      },
      (err: unknown) => err instanceof CsvFormatError && err.message === `A single record is longer than ${MAX_RECORD_BYTES} bytes (an unclosed quote?)`,
    );
  });
});

describe('ChunkPusher', () => {
  it('when small pieces are pushed, then they are consumed in gathered chunks with the tail carried', () => {
    const calls: { text: string; base: number; isLast: boolean }[] = [];
    const pusher = new ChunkPusher((buf, base, isLast) => {
      calls.push({ text: buf.toString(), base, isLast });
      const nl = buf.lastIndexOf(10);
      return isLast ? buf.length : nl + 1;
    }, 4);
    for (const piece of ['ab', 'c\nde', 'f', 'gh\ni', 'j']) pusher.push(Buffer.from(piece));
    pusher.end();
    assert.deepEqual(calls, [
      { text: 'abc\nde', base: 0, isLast: false },
      { text: 'defgh\ni', base: 4, isLast: false },
      { text: 'ij', base: 10, isLast: true },
    ]);
  });
});

describe('createThreadedCsvParser', () => {
  it('when a CSV is pushed to the worker in pieces, then its table is parseCsvFile\'s, and bad bytes reject end', async () => {
    const rows = ['timestamp,amount,ts,protocol'];
    for (let i = 0; i < 3000; i++) rows.push(`${i < 120 ? '' : 12 + i},${i === 2000 ? 'oops' : i},${1_700_000_000_000 + i},"T""CP\r\n${i % 3}"`);
    const bytes = Buffer.from(`\ufeff${rows.join('\r\n')}`);
    const path = await tempCsv(bytes);
    const want = await parseCsvFile(path, { requiredColumns: ['ts'] });
    const parser = createThreadedCsvParser({ requiredColumns: ['ts'], sizeHint: bytes.length });
    for (let p = 0; p < bytes.length; p += 4099) parser.push(bytes.subarray(p, p + 4099));
    assert.deepEqual(await parser.end(path), want);
    assert.deepEqual(want.columns.map((c) => c.kind), ['numeric', 'category', 'time', 'category']);

    const bad = createThreadedCsvParser({ numericColumns: ['amount'] });
    bad.push(bytes);
    await assert.rejects(bad.end(path), /Line 4002, column 2 \(amount\): expected a number, got "oops"/);
    const aborted = createThreadedCsvParser();
    aborted.push(bytes);
    aborted.abort();
    await assert.rejects(aborted.end(path), /aborted/);
  });
});

