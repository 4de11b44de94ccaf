/**
 * The parse workers' pool (src/ingest/pool.ts): parses one after another on the same warmed workers
 * give createCsvParser's tables and errors (after an error, after aborts), parses beyond the pool
 * get workers of their own, a worker lost between parses is replaced, and the pool never keeps the
 * process alive.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeParsePool, createCsvParser, createThreadedCsvParser, CsvFormatError, type CsvOptions, type FlowTable, parseCsvBuffer, warmParsePool } from '../../src/ingest/index.ts';
import { ParseWorker, parsePoolStatus } from '../../src/ingest/pool.ts';
import { BatchSplitter } from '../../src/ingest/split.ts';
import { WARM_ROWS, warmCsv, warmParse } from '../../src/ingest/warm.ts';
import { DEFAULT_FEATURES, flowCsv } from '../helpers/csv.ts';
import { runModule } from '../helpers/child.ts';

const dir = await mkdtemp(join(tmpdir(), 'ingest-pool-test-'));
after(() => rm(dir, { recursive: true, force: true }));
let fileNo = 0;
async function tempCsv(text: string | Buffer): Promise<{ bytes: Buffer; path: string }> {
  const bytes = Buffer.from(text);
  const path = join(dir, `p${fileNo++}.csv`);
  await writeFile(path, bytes);
  return { bytes, path };
}

const FLOW_OPTIONS: CsvOptions = { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES };

/** createCsvParser on the whole file: the reference table, or its error. */
async function reference(bytes: Buffer, path: string, options: CsvOptions): Promise<FlowTable | CsvFormatError> {
  const parser = createCsvParser(options);
  try {
    parser.push(bytes);
    return await parser.end(path);
  } catch (err) {
    assert.ok(err instanceof CsvFormatError);
    return err;
  }
}

/** One threaded parse of the file, pushed in pieces, with small batches (every worker gets several). */
async function threaded(bytes: Buffer, path: string, options: CsvOptions): Promise<FlowTable | CsvFormatError> {
  const parser = createThreadedCsvParser({ ...options, sizeHint: bytes.length, batchBytes: 2048 });
  for (let p = 0; p < bytes.length; p += 1500) parser.push(bytes.subarray(p, p + 1500));
  try {
    return await parser.end(path);
  } catch (err) {
    assert.ok(err instanceof CsvFormatError, String(err));
    return err;
  }
}

function assertSameOutcome(got: FlowTable | CsvFormatError, want: FlowTable | CsvFormatError, what: string): void {
  if (want instanceof CsvFormatError) {
    assert.ok(got instanceof CsvFormatError, `${what}: expected the error ${want.message}`);
    assert.deepEqual([got.message, got.line, got.column, got.columnName], [want.message, want.line, want.column, want.columnName], what);
  } else {
    assert.ok(!(got instanceof CsvFormatError), `${what}: unexpected error ${got instanceof CsvFormatError ? got.message : ''}`);
    assert.deepEqual(got, want, what);
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Files of different shapes, so that anything a worker kept from its last parse would show. */
async function inputs(): Promise<{ name: string; bytes: Buffer; path: string; options: CsvOptions }[]> {
  const wrongLate = flowCsv({ rows: 900, seed: 5, cell: (row, col, v) => (row === 700 && col === 'packet_count' ? 'lots' : v) });
  const quoted = ['id,"note, with comma",protocol', ...Array.from({ length: 300 }, (_, i) => `${i},"line ${i}\nnext ""q""",${i % 2 ? 'TCP' : 'UDP'}`)];
  const epochs = ['timestamp,host,n', ...Array.from({ length: 500 }, (_, i) => `${i % 4 === 0 ? '' : 1_700_000_000_000 + i * 1000},h${i % 7},${i}`)];
  const files = [
    { name: 'flows', text: flowCsv({ rows: 1000, anomalies: 10 }), options: FLOW_OPTIONS },
    { name: 'a CSV error late', text: wrongLate, options: FLOW_OPTIONS },
    { name: 'quoted fields, other columns', text: `${quoted.join('\r\n')}\r\n`, options: {} },
    { name: 'epoch milliseconds with blanks', text: epochs.join('\n'), options: {} },
    { name: 'other flows', text: flowCsv({ rows: 700, anomalies: 3, seed: 11 }), options: FLOW_OPTIONS },
  ];
  return Promise.all(files.map(async (f) => ({ name: f.name, options: f.options, ...(await tempCsv(f.text)) })));
}

describe('the parse pool', () => {
  before(() => warmParsePool(2, 500));
  after(() => closeParsePool());

  it('when warmed, then it holds two idle workers', () => {
    const status = parsePoolStatus();
    assert.equal(status.size, 2);
    assert.equal(status.idle.length, 2);
    assert.ok(status.idle.every((w) => w.pooled && w.settled));
  });

  it('when parses run one after another (an error and aborts among them), then each gives one parse\'s outcome, on the same two workers', async () => {
    const files = await inputs();
    const wants = await Promise.all(files.map((f) => reference(f.bytes, f.path, f.options)));
    assert.ok(wants[1] instanceof CsvFormatError && wants[1].line === 702, 'the error case is an error');
    const threads = new Set(parsePoolStatus().idle.map((w) => w.thread.threadId));
    const { startedPooled, startedExtra } = parsePoolStatus();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < files.length; i++) {
        assertSameOutcome(await threaded(files[i].bytes, files[i].path, files[i].options), wants[i], `round ${round}, ${files[i].name}`);
      }
      // Aborted before any byte, and aborted between batches (every batch sent reported parsed):
      // the workers owe nothing, so they go back to the pool.
      const early = createThreadedCsvParser({ batchBytes: 2048 });
      early.abort();
      await assert.rejects(early.end(files[0].path), /aborted/);
      const between = createThreadedCsvParser({ ...FLOW_OPTIONS, batchBytes: 2048 });
      between.push(files[0].bytes.subarray(0, 20_000));
      await until(() => parsePoolStatus().members.every((w) => w.settled), 'the batches sent are parsed');
      between.abort();
      await assert.rejects(between.end(files[0].path), /aborted/);
      assert.equal(parsePoolStatus().idle.length, 2);
    }
    const status = parsePoolStatus();
    assert.deepEqual(new Set(status.idle.map((w) => w.thread.threadId)), threads, 'the same threads');
    assert.equal(status.startedPooled, startedPooled);
    assert.equal(status.startedExtra, startedExtra);
  });

  it('when a parse is aborted while its workers are busy, then they are replaced and the next parses are right', async () => {
    const [flows, , quoted] = await inputs();
    const big = await tempCsv(flowCsv({ rows: 20_000, seed: 3 }));
    const before = parsePoolStatus().startedPooled;
    const busy = createThreadedCsvParser({ ...FLOW_OPTIONS, batchBytes: 4096 });
    busy.push(big.bytes.subarray(0, 1_000_000)); // hundreds of batches: not all parsed yet
    assert.ok(!parsePoolStatus().members.every((w) => w.settled));
    busy.abort();
    await assert.rejects(busy.end(big.path), /aborted/);
    assert.equal(parsePoolStatus().members.length, 0, 'both terminated');
    for (const f of [flows, quoted, flows]) {
      assertSameOutcome(await threaded(f.bytes, f.path, f.options), await reference(f.bytes, f.path, f.options), f.name);
    }
    const status = parsePoolStatus();
    assert.equal(status.startedPooled, before + 2, 'two new pool workers, then reused');
    assert.equal(status.idle.length, 2);
  });

  it('when the parts do not settle the table and a worker parses the whole file, then the table is right and that worker is replaced', async () => {
    // Epoch seconds in the first rows only: the other part reads the column as milliseconds.
    const text = ['ts,x', ...Array.from({ length: 400 }, (_, i) => `${i < 2 ? 1_700_000_000 + i : 1_700_000_000_000 + i},${i}`)].join('\n');
    const mixed = await tempCsv(text);
    const [flows] = await inputs();
    const before = parsePoolStatus();
    assertSameOutcome(await threaded(mixed.bytes, mixed.path, {}), await reference(mixed.bytes, mixed.path, {}), 'fallback');
    const after = parsePoolStatus();
    assert.equal(after.idle.length, 1, 'the worker that parsed the file is gone');
    assert.ok(before.idle.includes(after.idle[0]));
    assertSameOutcome(await threaded(flows.bytes, flows.path, flows.options), await reference(flows.bytes, flows.path, flows.options), 'next');
    assert.equal(parsePoolStatus().startedPooled, before.startedPooled + 1);
    assert.equal(parsePoolStatus().idle.length, 2);
  });

  it('when a column changes kind in one part only, then the merge settles it: no worker parses the whole file, both stay in the pool', async () => {
    // One value that is not a time and one that is not a number: each lies in one part's batches.
    const time = (i: number) => `2024-01-15 08:${String(i % 60).padStart(2, '0')}:00`;
    const rows = Array.from({ length: 4000 }, (_, i) => `${i === 3000 ? '-' : time(i)},${i === 1500 ? 'n/a' : (i / 8).toFixed(3)},${i}`);
    const file = await tempCsv(['timestamp,amount,n', ...rows].join('\n'));
    const want = await reference(file.bytes, file.path, {});
    assert.ok(!(want instanceof CsvFormatError));
    assert.deepEqual(want.columns.map((c) => c.kind), ['category', 'category', 'numeric']);
    const before = parsePoolStatus();
    assertSameOutcome(await threaded(file.bytes, file.path, {}), want, 'settled');
    // A worker that parsed the whole file would have been replaced.
    const after = parsePoolStatus();
    assert.deepEqual(new Set(after.idle), new Set(before.idle));
    assert.equal(after.startedPooled, before.startedPooled);
  });

  it('when more parses run at once than the pool has workers, then the others get workers of their own, and all tables are right', async () => {
    const files = (await inputs()).filter((f) => f.name !== 'a CSV error late');
    const { startedExtra } = parsePoolStatus();
    const parsers = files.map((f) => createThreadedCsvParser({ ...f.options, sizeHint: f.bytes.length, batchBytes: 2048 }));
    // Interleaved pushes: every parse is in flight at once.
    for (let p = 0; files.some((f) => p < f.bytes.length); p += 1000) {
      files.forEach((f, i) => p < f.bytes.length && parsers[i].push(f.bytes.subarray(p, p + 1000)));
    }
    const got = await Promise.all(parsers.map((parser, i) => parser.end(files[i].path)));
    for (let i = 0; i < files.length; i++) assert.deepEqual(got[i], await reference(files[i].bytes, files[i].path, files[i].options), files[i].name);
    const status = parsePoolStatus();
    assert.equal(status.startedExtra, startedExtra + 2 * (files.length - 1));
    assert.equal(status.idle.length, 2, 'the pool workers are back; the extras were terminated');
  });

  it('when a pool worker dies between parses, then the next parse starts another in its place', async () => {
    const [flows] = await inputs();
    const { startedPooled, idle } = parsePoolStatus();
    const dead = idle[0];
    await dead.thread.terminate();
    await until(() => !parsePoolStatus().members.includes(dead), 'the dead worker leaves the pool');
    assert.equal(parsePoolStatus().idle.length, 1);
    assertSameOutcome(await threaded(flows.bytes, flows.path, flows.options), await reference(flows.bytes, flows.path, flows.options), 'after a death');
    const status = parsePoolStatus();
    assert.equal(status.startedPooled, startedPooled + 1);
    assert.equal(status.idle.length, 2);
    assert.ok(!status.idle.includes(dead));
  });

  it('when the pool is closed during a parse, then the parse still ends with its table and its workers are terminated', async () => {
    const [flows] = await inputs();
    const parser = createThreadedCsvParser({ ...FLOW_OPTIONS, batchBytes: 2048 });
    parser.push(flows.bytes);
    await closeParsePool();
    assert.deepEqual(parsePoolStatus().idle, []);
    assert.deepEqual(await parser.end(flows.path), await reference(flows.bytes, flows.path, FLOW_OPTIONS));
    assert.equal(parsePoolStatus().members.length, 0);
    await warmParsePool(2, 500);
    assert.equal(parsePoolStatus().idle.length, 2);
    assert.ok(parsePoolStatus().idle.every((w) => w.warmedRows === 500));
  });

  it('when a parse comes while the pool warms up, then the warm-up gives way and the parse gives its table', async () => {
    const [flows] = await inputs();
    await closeParsePool();
    const warming = warmParsePool(2, 1_000_000); // many seconds of warm-up, were it not stopped
    const workers = parsePoolStatus().idle;
    assert.deepEqual(await threaded(flows.bytes, flows.path, flows.options), await reference(flows.bytes, flows.path, flows.options));
    await warming;
    assert.deepEqual(workers.map((w) => w.warmedRows), [null, null]);
    const idle = parsePoolStatus().idle;
    assert.ok(idle.length === 2 && idle.every((w) => workers.includes(w)), 'the same two workers, back in the pool');
  });
});

describe('a parse worker reused', () => {
  it('when it is reset, or just started again, mid-batch of another file, then its next part is the new file\'s alone', async () => {
    const first = await tempCsv(`x,y,z\n${'1,2,3\n'.repeat(50)}`);
    const second = await tempCsv(flowCsv({ rows: 200 }));
    // One worker, one batch: its part is the whole table.
    const want = await reference(second.bytes, second.path, FLOW_OPTIONS);
    const worker = new ParseWorker(false, 0, () => undefined);
    const lease = worker.lease({ parsed: () => undefined, failed: (err) => assert.fail(err) });
    try {
      for (const between of [[{ kind: 'reset' }], []] as const) {
        lease.post({ kind: 'start', options: {} });
        lease.post({ kind: 'piece', batch: 0, offset: 0, bytes: first.bytes.subarray(0, 100), closes: false, final: false });
        for (const msg of between) lease.post(msg);
        lease.post({ kind: 'start', options: { ...FLOW_OPTIONS, sizeHint: second.bytes.length } });
        const splitter = new BatchSplitter((_w, msg) => lease.post(msg), 1, 4096);
        splitter.push(second.bytes);
        splitter.end();
        const answer = await lease.ask({ kind: 'end', source: second.path });
        assert.ok(answer.result.ok && !(want instanceof CsvFormatError));
        assert.deepEqual(answer.result.table.header, want.header);
        assert.deepEqual(answer.result.table.columns, want.columns);
        assert.equal(answer.result.table.rowCount, 200 + 6);
      }
    } finally {
      lease.release();
    }
  });
});

describe('the warm-up', () => {
  it('when its CSV is parsed, then every column keeps the kind its name gives, and the split parse has every row', async () => {
    const table = parseCsvBuffer(warmCsv(WARM_ROWS));
    assert.equal(table.rowCount, WARM_ROWS);
    assert.deepEqual(table.warnings, []);
    const kinds = Object.fromEntries(table.columns.map((c) => [c.name, c.kind]));
    assert.equal(kinds.timestamp, 'time');
    assert.equal(kinds.ts, 'time');
    assert.equal(kinds.source_ip, 'category');
    assert.equal(kinds.protocol, 'category');
    assert.equal(kinds.bytes_per_packet, 'numeric');
    assert.equal(await warmParse(WARM_ROWS), WARM_ROWS);
  });

  it('when it is told to stop, then it stops before its parse ends', async () => {
    assert.equal(await warmParse(WARM_ROWS, () => true), null);
    let checks = 0;
    assert.equal(await warmParse(WARM_ROWS, () => ++checks > 3), null);
    assert.equal(checks, 4);
  });
});

describe('the process', () => {
  const ingest = JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'ingest', 'index.ts'));
  const parseOnce = `const p = createThreadedCsvParser({ batchBytes: 64 });
p.push(Buffer.from('a,b\\n' + '1,2\\n'.repeat(100)));
const t = await p.end('');
if (t.rowCount !== 100) process.exit(3);
`;

  it('when the pool is warm and has parsed, then the process exits by itself, closed or not', async () => {
    // A top-level await left waiting when nothing keeps the process alive exits with 13.
    const open = `import { createThreadedCsvParser, warmParsePool } from ${ingest};\nawait warmParsePool(2, 200);\n${parseOnce}`;
    const closed = `import { closeParsePool, createThreadedCsvParser, warmParsePool } from ${ingest};\nawait warmParsePool(2, 200);\n${parseOnce}await closeParsePool();\n`;
    assert.deepEqual(await Promise.all([runModule(dir, open), runModule(dir, closed)]), [0, 0]);
  });
});
