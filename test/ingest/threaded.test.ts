/**
 * Parsing on several threads (split.ts → part.ts on each worker → merge.ts) gives createCsvParser's
 * table or error on the same bytes. Most cases run the same steps in this thread (PartParsers fed by
 * a BatchSplitter, then mergeParts), with tiny batches so that records, quotes, blank lines and kind
 * changes straddle batch boundaries; the last ones run createThreadedCsvParser's real workers.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createCsvParser, createThreadedCsvParser, CsvFormatError, type CsvOptions, type FlowTable, parseCsvFile } from '../../src/ingest/index.ts';
import { mergeParts } from '../../src/ingest/merge.ts';
import { PartParser } from '../../src/ingest/part.ts';
import { readPartText } from '../../src/ingest/reread.ts';
import { BatchSplitter, findRecordCut, quoteParity } from '../../src/ingest/split.ts';
import { mulberry32 } from '../../src/lib/prng.ts';
import { DEFAULT_FEATURES, flowCsv } from '../helpers/csv.ts';
import { assertSame, type Outcome, outcome } from '../helpers/parse.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'csv');
const dir = await mkdtemp(join(tmpdir(), 'ingest-threaded-test-'));
after(() => rm(dir, { recursive: true, force: true }));
let fileNo = 0;
async function tempCsv(bytes: Buffer): Promise<string> {
  const p = join(dir, `t${fileNo++}.csv`);
  await writeFile(p, bytes);
  return p;
}



/** createCsvParser on the whole file: the reference. */
function reference(bytes: Buffer, path: string, options: CsvOptions): Promise<Outcome> {
  return outcome(async () => {
    const parser = createCsvParser(options);
    parser.push(bytes);
    return parser.end(path);
  });
}

interface Split {
  readonly workers: number;
  readonly batchBytes: number;
  /** Pushed in pieces of this size (default: all at once). */
  readonly pieceBytes?: number;
  /**
   * Whether a worker reports a batch parsed as soon as it is (else never: batches alternate). Random
   * reports give the uneven assignments of busy workers (several batches in a row to one worker).
   */
  readonly reports?: () => boolean;
}

interface InProcess {
  readonly outcome: Outcome;
  /** 'merged', 'error', or the merge's reason to parse the file instead. */
  readonly how: string;
  /** The part rows the merge read again from the file. */
  readonly rereadRows: number;
  /** Each part's column kinds (null: no part, or it failed). */
  readonly kinds: readonly (readonly string[] | null)[];
}

/** createThreadedCsvParser's steps in this thread. */
async function inProcess(bytes: Buffer, path: string, options: CsvOptions, split: Split): Promise<InProcess> {
  const parts = Array.from({ length: split.workers }, () => new PartParser({ ...options, sizeHint: bytes.length }));
  const splitter: BatchSplitter = new BatchSplitter(
    (w, msg) => {
      parts[w].receive(msg);
      if (msg.kind === 'piece' && msg.closes && split.reports?.()) splitter.parsed(msg.batch);
    },
    split.workers,
    split.batchBytes,
  );
  const piece = split.pieceBytes ?? bytes.length;
  for (let p = 0; p < bytes.length; p += piece) splitter.push(bytes.subarray(p, p + piece));
  splitter.end();
  const results = await Promise.all(parts.map((part, i) => (splitter.plan.includes(i) ? part.end(path) : undefined)));
  const kinds = results.map((r) => (r?.ok ? r.table.columns.map((c) => c.kind) : null));
  const merged = await mergeParts(splitter.plan, results, (_part, request) => readPartText(path, request), options);
  if ('table' in merged) return { outcome: { table: merged.table }, how: 'merged', rereadRows: merged.rereadRows, kinds };
  if ('error' in merged) {
    assert.ok(merged.error instanceof CsvFormatError, `expected CsvFormatError, got ${String(merged.error)}`);
    return { outcome: { error: merged.error }, how: 'error', rereadRows: 0, kinds };
  }
  return { outcome: await outcome(() => parseCsvFile(path, options)), how: merged.fallback, rereadRows: 0, kinds };
}

/**
 * Rows padded to `width` bytes, the header too: with batches of k * width bytes, batch b holds rows
 * [b * k - 1, (b + 1) * k - 1), and two workers that report nothing take batches in turn (worker 0
 * the even ones). A null row is a blank line (spaces only) in its place.
 */
function fixedWidth(width: number, header: string, rows: readonly (string | null)[]): string {
  const lines = [header, ...rows.map((r) => r ?? '')];
  assert.ok(lines.every((l) => l.length < width));
  // Trailing spaces are trimmed from the last field.
  return lines.map((l) => `${l.padEnd(width - 1, ' ')}\n`).join('');
}

const SPLITS: readonly Split[] = [
  { workers: 2, batchBytes: 1 },
  { workers: 2, batchBytes: 7, pieceBytes: 3 },
  { workers: 2, batchBytes: 64 },
  { workers: 3, batchBytes: 23, pieceBytes: 50 },
  { workers: 2, batchBytes: 4096 },
];

/** Every split of SPLITS gives the reference's outcome; returns the reference and each split's `how`. */
async function assertLikeOneParse(text: string | Buffer, options: CsvOptions = {}, splits = SPLITS): Promise<{ want: Outcome; hows: string[] }> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const path = await tempCsv(bytes);
  const want = await reference(bytes, path, options);
  const hows: string[] = [];
  for (const split of splits) {
    const got = await inProcess(bytes, path, options, split);
    assertSame(got.outcome, want, `${split.workers} workers, batches of ${split.batchBytes} (${got.how})`);
    hows.push(got.how);
  }
  return { want, hows };
}

describe('findRecordCut', () => {
  it('when quotes are balanced, then it cuts after the last line feed; inside quotes it does not', () => {
    const b = (s: string) => Buffer.from(s);
    assert.equal(findRecordCut(b('a,b\n1,2\n3,'), 10, 0), 8);
    assert.equal(findRecordCut(b('a,"x\ny"\n1,"p\nq'), 15, 0), 8);
    assert.equal(findRecordCut(b('x\ny"\n1,2\n'), 9, 1), 9, 'odd before the buffer: the quote closes the field');
    assert.equal(findRecordCut(b('x\ny\nz'), 5, 1), -1, 'all inside a quoted field');
    assert.equal(findRecordCut(b('"say ""hi""\n",1\n2'), 17, 0), 16);
    assert.equal(findRecordCut(b('no line feed'), 12, 0), -1);
    assert.equal(findRecordCut(b('a\nb\n'), 2, 0), 2, 'only the first `to` bytes count');
  });

  it('when quotes are dense or sparse, at any alignment, then the parity is the count of quote bytes', () => {
    const r = mulberry32(5);
    // Bytes near the quote (0x22) and 0x7f/0x80/0xff catch carries between the bytes of a word.
    const others = [0x21, 0x23, 0xa2, 0x02, 0x20, 0x7f, 0x80, 0xff, 0x00, 0x61, 0x0a];
    for (let k = 0; k < 2000; k++) {
      const len = Math.floor(r() * 300);
      const dense = r() < 0.5;
      const whole = Buffer.from(Array.from({ length: len + 3 }, () => (r() < (dense ? 0.4 : 0.02) ? 0x22 : others[Math.floor(r() * others.length)])));
      const bytes = whole.subarray(Math.floor(r() * 4)).subarray(0, len);
      const to = Math.floor(r() * (len + 1));
      let n = 0;
      for (let i = 0; i < to; i++) if (bytes[i] === 0x22) n++;
      assert.equal(quoteParity(bytes, to), n & 1, `case ${k}`);
    }
  });
});

describe('parsing in batches on several workers', () => {
  for (const name of readdirSync(FIXTURES).sort()) {
    it(`when fixture ${name} is parsed in batches, then it gives one parse's table or error`, async () => {
      await assertLikeOneParse(await readFile(join(FIXTURES, name)));
    });
  }

  it('when a flow CSV is parsed with the analysis options, then the parts merge into the same table', async () => {
    const options = { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES };
    const r = mulberry32(3);
    const splits = [...SPLITS, { workers: 2, batchBytes: 300, reports: () => r() < 0.3 }, { workers: 3, batchBytes: 100, reports: () => r() < 0.7 }];
    const { want, hows } = await assertLikeOneParse(flowCsv({ rows: 300, anomalies: 5 }), options, splits);
    assert.ok('table' in want && want.table.rowCount === 305);
    assert.deepEqual(new Set(hows), new Set(['merged']));
  });

  it('when quoted fields with commas, doubled quotes and line breaks straddle batches, with a BOM and CRLF, then the table is the same', async () => {
    const rows = ['\ufeffid,"note, with comma",value,protocol'];
    for (let i = 0; i < 60; i++) {
      const note = i % 3 === 0 ? `"line ${i}\r\nnext ""quoted"", ok"` : i % 3 === 1 ? `"a,b\nc ${i}"` : `"x\ry${i}"`;
      rows.push(`${i},${note},${(i * 1.5).toFixed(2)},"${i % 2 ? 'TCP' : 'UDP'}"`);
    }
    const { want, hows } = await assertLikeOneParse(`${rows.join('\r\n')}\r\n`);
    assert.ok('table' in want && want.table.rowCount === 60);
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
  });

  it('when blank lines fall anywhere (before the header, between rows, at the end), then the count and the first line are the same', async () => {
    // (Tiny batches cut the blank lines before the header into a first batch of their own: then
    // the other workers cannot read the header from it, and the file is parsed whole.)
    const { want } = await assertLikeOneParse('\n  \n\na,b\n1,2\n\n3,4\n \t \n5,6\n\n\n7,8\n\n');
    assert.ok('table' in want);
    assert.deepEqual(want.table.warnings, ['Skipped 8 blank lines (the first at line 1).']);
    const { hows } = await assertLikeOneParse('a,b\n1,2\n3,4\n\n5,6\n\n7,8\n9,10\n\n11,12\n\n');
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
  });

  it('when the file is tiny, empty, only blank lines or only a header, then the outcome is the same', async () => {
    for (const text of ['', '\n\n', 'a', 'a\n', 'a\n1', 'a\n1\n', 'a,b\r\n1,2', '\ufeff', '\ufeffa\n1', '"a"\n"1"', 'a\n\n\n']) {
      await assertLikeOneParse(text);
    }
  });

  it('when a numeric column meets text late, in several batches after its first numbers, then it is text with the one warning', async () => {
    const rows = ['amount,host,count'];
    for (let i = 0; i < 90; i++) rows.push(`${i >= 70 ? `n/a${i % 3}` : i},${i < 30 ? '' : `h${i % 7}`},${i % 9 === 0 ? 'nan' : i}`);
    const { want, hows } = await assertLikeOneParse(rows.join('\n'));
    assert.ok('table' in want);
    assert.deepEqual(want.table.columns.map((c) => c.kind), ['category', 'category', 'numeric']);
    assert.deepEqual(want.table.warnings, ['Column "amount" has a value that is not a number at line 72 ("n/a1"), so it is treated as text.']);
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
  });

  it('when one text value turns a numeric column in one part only, then the merge settles it, to the same table', async () => {
    const rows = ['amount,x', ...Array.from({ length: 90 }, (_, i) => `${i === 70 ? 'n/a' : (i / 4).toFixed(2)},${i}`)];
    const { want, hows } = await assertLikeOneParse(rows.join('\n'));
    assert.ok('table' in want && want.table.columns[0].kind === 'category');
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
  });

  it('when a numeric column holds text from its first value in one part and later in another, then the warning is decided over the file', async () => {
    // Numbers only before the text of the second part: the file's column had numbers first.
    const rows = ['value,n'];
    for (let i = 0; i < 40; i++) rows.push(`${i < 10 ? '' : i < 12 ? String(i) : `t${i % 4}`},${i}`);
    const { want, hows } = await assertLikeOneParse(rows.join('\n'));
    assert.ok('table' in want);
    assert.deepEqual(want.table.warnings, ['Column "value" has a value that is not a number at line 14 ("t0"), so it is treated as text.']);
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
    const quiet = ['value,n', ...Array.from({ length: 40 }, (_, i) => `${i < 10 ? '' : i % 5 === 0 ? 'nan' : `t${i % 4}`},${i}`)];
    const q = await assertLikeOneParse(quiet.join('\n'));
    assert.ok('table' in q.want && q.want.table.warnings.length === 0);
    assert.ok(q.hows.every((h) => h === 'merged'), q.hows.join());
  });

  it('when a time column holds plain numbers, text, epoch seconds or milliseconds, then kinds, units and formats are the same', async () => {
    const make = (value: (i: number) => string) => ['timestamp,x', ...Array.from({ length: 50 }, (_, i) => `${value(i)},${i}`)].join('\n');
    const cases: [string, (i: number) => string, string][] = [
      ['small numbers after blanks', (i) => (i < 20 ? '' : String(i)), 'numeric'],
      ['dates without a year first', (i) => (i < 5 ? 'nan' : `03/07/2017 08:${String(i).padStart(2, '0')}:00`), 'category'],
      ['epoch seconds', (i) => String(1_700_000_000 + i * 61), 'time'],
      ['epoch milliseconds with blanks', (i) => (i % 4 === 0 ? '' : String(1_700_000_000_000 + i)), 'time'],
      ['ISO then epoch', (i) => (i < 25 ? `2024-01-15T08:${String(i).padStart(2, '0')}:00Z` : String(1_700_000_000 + i)), 'time'],
    ];
    for (const [what, value, kind] of cases) {
      const { want, hows } = await assertLikeOneParse(make(value));
      assert.ok('table' in want, what);
      assert.equal(want.table.columns[0].kind, kind, what);
      assert.ok(hows.every((h) => h === 'merged'), `${what}: ${hows.join()}`);
    }
  });

  it('when the parts cannot settle a time column (epoch units differ, a part read times where the file reads numbers), then it parses the file', async () => {
    // Two rows a batch: worker 0 parses rows 0, 3, 4, 7, 8, ..., worker 1 rows 1, 2, 5, 6, ...
    const make = (value: (i: number) => string) => fixedWidth(24, 'ts,x', Array.from({ length: 60 }, (_, i) => `${value(i)},${i}`));
    const cases: [string, (i: number) => string, string][] = [
      ['seconds first, milliseconds later', (i) => String(i < 1 ? 1_700_000_000 + i : 1_700_000_000_000 + i), 'different units'],
      ['millis then small numbers', (i) => (i < 1 ? String(1_700_000_000_000 + i) : String(i)), 'which the file may read as a time'],
      ['a small number, then ISO times', (i) => (i < 1 ? '7' : `2024-01-15 08:${String(i).padStart(2, '0')}:00`), 'a part read times where the first value'],
      ['ISO times with a small number, epoch seconds later', (i) => (i === 10 ? '12' : i < 30 ? `2024-01-15 08:${String(i).padStart(2, '0')}:00` : String(1_700_000_000 + i)), 'epoch unit of another part'],
      ['a small number, then "inf" first in the other part', (i) => (i === 0 || i === 3 ? String(i) : i < 5 ? '' : i === 5 ? 'inf' : 'x'), 'a missing number in the file'],
    ];
    for (const [what, value, why] of cases) {
      const { hows } = await assertLikeOneParse(make(value), {}, [{ workers: 2, batchBytes: 48 }]);
      assert.ok(hows[0].includes(why), `${what}: ${hows[0]}`);
    }
  });

  it('when numbers are not finite or missing, then counts and warnings are the same', async () => {
    const values = ['1', 'inf', '', '-Infinity', 'nan', '1e999', '2.5', 'NaN', '+inf', '3'];
    const rows = ['a,b', ...Array.from({ length: 60 }, (_, i) => `${values[i % values.length]},${values[(i * 7) % values.length]}`)];
    const { want, hows } = await assertLikeOneParse(rows.join('\n'));
    assert.ok('table' in want && want.table.warnings.length === 2);
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
  });

  it('when text values hold invalid UTF-8 in different batches, then distinct bytes stay distinct dictionary entries', async () => {
    const parts: Buffer[] = [Buffer.from('protocol,n\n')];
    for (let i = 0; i < 40; i++) parts.push(Buffer.from([0x50, i % 3 === 0 ? 0xff : i % 3 === 1 ? 0xfe : 0x51]), Buffer.from(`,${i}\n`));
    parts.push(Buffer.from('\ufffd,99\n'));
    const { want, hows } = await assertLikeOneParse(Buffer.concat(parts));
    assert.ok('table' in want);
    const col = want.table.columns[0];
    assert.ok(col.kind === 'category' && col.dictionary.length === 4 && col.dictionary.filter((v) => v === 'P\ufffd').length === 2);
    assert.ok(hows.every((h) => h === 'merged'), hows.join());
  });

  it('when the CSV is wrong in a later batch, then the error is the one parse would report, line and all', async () => {
    const options = { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES };
    const bad = flowCsv({ rows: 200, cell: (row, col, v) => (row === 150 && col === 'packet_count' ? 'lots' : v) });
    const { want, hows } = await assertLikeOneParse(bad, options);
    assert.ok('error' in want && want.error.line === 152);
    assert.ok(hows.every((h) => h === 'error'), hows.join());
    const texts = [
      `a,b\n${'1,2\n'.repeat(30)}3\n${'4,5\n'.repeat(10)}`,
      `a,b\n${'1,"x\ny"\n'.repeat(20)}1,"x"y\n${'1,2\n'.repeat(10)}`,
      `a,b\n${'1,2\n'.repeat(20)}1,"never closed\n2,3\n`,
      `a,b\n${'1,2\n'.repeat(20)}\n\n3,4,5\n`,
    ];
    for (const text of texts) {
      const r = await assertLikeOneParse(text);
      assert.ok('error' in r.want, text);
    }
  });

  it('when a quote sits inside an unquoted field (the cut can be fooled), then the table is still the same', async () => {
    const rows = ['a,b,c'];
    for (let i = 0; i < 40; i++) rows.push(i === 5 ? '1,ab"c,2' : i === 6 ? '"3,4\n5",x,y' : `${i},v${i % 3},${i}`);
    const { want } = await assertLikeOneParse(`${rows.join('\n')}\n`);
    assert.ok('table' in want);
  });

  it('when a quote inside an unquoted field makes a line feed inside a quoted field look like a cut, then the cut is caught', async () => {
    // Text columns (kinds cannot disagree): a wrong cut would merge into a wrong table unnoticed.
    const rows = ['label,protocol', 'a,TCP', 'ab"c,UDP', '"p,q', 'r",TCP', ...Array.from({ length: 30 }, (_, i) => `l${i},UDP`)];
    const text = `${rows.join('\n')}\n`;
    const bytes = Buffer.from(text);
    const path = await tempCsv(bytes);
    const want = await reference(bytes, path, {});
    assert.ok('table' in want && want.table.rowCount === 33);
    // Batches of 1 byte cut at every line feed with an even count of quotes before it, the one inside "p,q\nr" too.
    const got = await inProcess(bytes, path, {}, { workers: 2, batchBytes: 1 });
    assert.equal(got.how, 'batch 2 does not end at a record boundary');
    assertSame(got.outcome, want, 'fooled cut');
  });

  it('when the first text of a numeric column is in a part with no numbers before it, then the other part\'s earlier numbers still make the warning', async () => {
    // 8-byte rows, 4 per batch: rows 9-10 (numbers) in batch 2 (worker 0); rows 11-14 (text) in batch 3 (worker 1).
    const values = Array.from({ length: 24 }, (_, i) => (i === 9 || i === 10 ? String(i) : i >= 11 ? `t${i % 3}` : ''));
    const text = fixedWidth(8, 'n,value', values.map((v, i) => `${i % 10},${v}`));
    const bytes = Buffer.from(text);
    const path = await tempCsv(bytes);
    const want = await reference(bytes, path, {});
    assert.ok('table' in want);
    assert.deepEqual(want.table.warnings, ['Column "value" has a value that is not a number at line 13 ("t2"), so it is treated as text.']);
    const got = await inProcess(bytes, path, {}, { workers: 2, batchBytes: 32 });
    assert.equal(got.how, 'merged');
    assertSame(got.outcome, want, 'merged');
  });

  it('when a time column turns to text in each part after reading times, then the parts do not settle it (the file\'s turn may be later)', async () => {
    // 16-byte rows, 2 per batch. Worker 0: milliseconds, then "x" (row 3); worker 1: an ISO date, then
    // "5" (row 2), text there only because it came after a date. The file's column read "5" as a time
    // (its unit was set by row 0) and turned at row 3.
    const values = ['1700000000000', '2024-01-15', '5', 'x', 'x', 'y', 'x'];
    const text = fixedWidth(16, 'timestamp,n', values.map((v, i) => `${v},${i}`));
    const bytes = Buffer.from(text);
    const path = await tempCsv(bytes);
    const want = await reference(bytes, path, {});
    assert.ok('table' in want && want.table.columns[0].kind === 'category');
    assert.match(want.table.warnings[0], /at line 5 \("x"\)/);
    const got = await inProcess(bytes, path, {}, { workers: 2, batchBytes: 32 });
    assert.notEqual(got.how, 'merged');
    assertSame(got.outcome, want, 'unsettled');
  });

  it('when maxRows is set, then one worker parses every batch in order and the limit error is the same', async () => {
    const text = `a\n${'1\n'.repeat(50)}`;
    const path = await tempCsv(Buffer.from(text));
    const want = await reference(Buffer.from(text), path, { maxRows: 30 });
    assert.ok('error' in want);
    const got = await inProcess(Buffer.from(text), path, { maxRows: 30 }, { workers: 1, batchBytes: 8 });
    assertSame(got.outcome, want, 'one worker');
  });

  it('when 400 seeded random files mix kinds, quotes, blank lines and errors, then every split gives the same outcome', async () => {
    const r = mulberry32(20241124);
    const hows = new Map<string, number>();
    for (let k = 0; k < 400; k++) {
      const { text, options } = randomCsv(r);
      const splits: Split[] = [
        { workers: 2, batchBytes: 1 + Math.floor(r() * 40), pieceBytes: 1 + Math.floor(r() * 100) },
        { workers: 2 + Math.floor(r() * 2), batchBytes: 32 + Math.floor(r() * 300) },
        { workers: 2, batchBytes: 1 + Math.floor(r() * 60), reports: () => r() < 0.5 },
      ];
      try {
        const got = await assertLikeOneParse(text, options, splits);
        for (const h of got.hows) hows.set(h, (hows.get(h) ?? 0) + 1);
      } catch (err) {
        assert.fail(`case ${k}: ${JSON.stringify(text)} ${JSON.stringify(options)}\n${String(err)}`);
      }
    }
    // Most files merge: the fallback is for the cases the parts cannot settle.
    assert.ok((hows.get('merged') ?? 0) > 600, JSON.stringify([...hows]));
  });
});

/** A random CSV: a header and rows of columns of various kinds, written in various ways. */
function randomCsv(r: () => number): { text: string; options: CsvOptions } {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const kinds = ['number', 'text', 'protocol', 'time', 'forced'] as const;
  const cols = Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => ({ kind: pick(kinds), name: '', i }));
  for (const c of cols) c.name = c.kind === 'protocol' ? `protocol` : c.kind === 'time' ? 'timestamp' : `${c.kind}${c.i}`;
  const seen = new Set<string>();
  const used = cols.filter((c) => !seen.has(c.name) && seen.add(c.name));
  const rows = Math.floor(r() * 50);
  const eol = pick(['\n', '\r\n', '\n', '\r']);
  const late = Math.floor(r() * (rows + 1));
  const mode = Math.floor(r() * 6);
  const numberText = () => pick([String(Math.floor(r() * 1000)), (r() * 100).toFixed(3), (r() * 1e-5).toExponential(3), '-0', '1e999', 'inf', 'nan', '']);
  const value = (kind: (typeof kinds)[number], row: number): string => {
    switch (kind) {
      case 'number':
        return row === late && mode < 3 ? pick(['n/a', 'x,y', 'a "q"']) : numberText();
      case 'forced':
        return row === late && mode === 0 ? 'bad' : pick([String(row), (row / 7).toFixed(2), '']);
      case 'text':
        return row < late && mode === 4 ? '' : pick(['alpha', 'be ta', 'x,y', 'line\nbreak', 'say "hi"', '', 'nan', 'é€']);
      case 'protocol':
        return pick(['TCP', 'UDP', 'ICMP', '', 'tcp']);
      case 'time':
        if (mode === 1) return row < late ? '' : String(row);
        if (mode === 2) return row < late ? 'nan' : `2024-02-${String(1 + (row % 28)).padStart(2, '0')} 10:00:00`;
        if (mode === 3) return String(1_700_000_000 + row * 60);
        if (mode === 5) return row < late ? `2024-01-01T00:00:${String(row % 60).padStart(2, '0')}Z` : String(row);
        return pick(['2024-01-15 08:00:00', '2024-01-15T08:00:00.5+02:00', '', String(1_700_000_000_000 + row)]);
    }
  };
  const field = (v: string): string => {
    const needs = /[",\r\n]/.test(v);
    if (needs || r() < 0.15) return `"${v.replaceAll('"', '""')}"`;
    return r() < 0.05 ? ` ${v} ` : v;
  };
  const lines = [used.map((c) => field(c.name)).join(',')];
  for (let row = 0; row < rows; row++) {
    if (r() < 0.05) lines.push(pick(['', '  ']));
    const fields = used.map((c) => field(value(c.kind, row)));
    if (mode === 0 && row === late && r() < 0.3) fields.push('extra');
    lines.push(fields.join(','));
  }
  let text = lines.join(eol) + (r() < 0.6 ? eol : '');
  if (r() < 0.1) text = `\ufeff${text}`;
  const forced = used.filter((c) => c.kind === 'forced').map((c) => c.name);
  return { text, options: forced.length > 0 && r() < 0.8 ? { numericColumns: forced, requiredColumns: forced } : {} };
}

describe('a column whose kind changes in some parts only', () => {
  // Rows of 32 bytes, four to a batch (the header takes the first place): worker 0 parses places
  // 0-2, 7-10, 15-18, ..., worker 1 places 3-6, 11-14, 19-22, ... (a place holds a row or a blank line).
  const WIDTH = 32;
  const worker = (place: number): number => Math.floor((place + 1) / 4) % 2;

  /**
   * The file of `places` parsed by parseCsvFile, and in batches by two workers (each batch four
   * places) whose parts the merge settles: the same table, and no parse of the file.
   */
  async function settled(header: string, places: readonly (string | null)[]): Promise<{ table: FlowTable; kinds: (c: number) => string[]; rereadRows: number }> {
    const bytes = Buffer.from(fixedWidth(WIDTH, header, places));
    const path = await tempCsv(bytes);
    const want = await outcome(() => parseCsvFile(path));
    const got = await inProcess(bytes, path, {}, { workers: 2, batchBytes: 4 * WIDTH });
    assert.equal(got.how, 'merged');
    assertSame(got.outcome, want, 'the merge');
    assert.ok('table' in want);
    return { table: want.table, kinds: (c) => got.kinds.map((k) => (k === null ? 'none' : k[c])), rereadRows: got.rereadRows };
  }

  const rowsOf = (part: number, places: readonly (string | null)[]): number => places.filter((p, i) => p !== null && worker(i) === part).length;

  it('when a numeric column meets text in the second worker\'s batches only, then it is text, the first part\'s rows read again as text', async () => {
    // Blank lines and a quoted line break move the lines off the rows; some numbers are quoted.
    const places = Array.from({ length: 40 }, (_, i): string | null => {
      if (i === 2 || i === 8) return null;
      const amount = i === 12 ? 'n/a' : i % 5 === 0 ? `"${(i * 1.25).toFixed(2)}"` : (i * 1.25).toFixed(2);
      return `${amount},${i === 1 ? '"two\nlines"' : `note ${i % 3}`}`;
    });
    assert.equal(worker(12), 1);
    const { table, kinds, rereadRows } = await settled('amount,note', places);
    assert.deepEqual(kinds(0), ['numeric', 'category']);
    assert.equal(rereadRows, rowsOf(0, places));
    assert.deepEqual(table.warnings, ['Skipped 2 blank lines (the first at line 5).', 'Column "amount" has a value that is not a number at line 15 ("n/a"), so it is treated as text.']);
    const amount = table.columns[0];
    assert.ok(amount.kind === 'category');
    // The dictionary in the order of the file's parse: from the text on, then the rows before it.
    assert.deepEqual(amount.dictionary.slice(0, 3), ['n/a', '16.25', '17.50']);
    assert.equal(amount.dictionary[amount.codes[0]], '0.00');
  });

  it('when a time column holds plain numbers in one part and nothing in the other, then it is numeric, and nothing is read again', async () => {
    const places = Array.from({ length: 40 }, (_, i) => `${worker(i) === 0 ? '' : i / 2},${i}`);
    const { table, kinds, rereadRows } = await settled('ts,n', places);
    assert.deepEqual(kinds(0), ['time', 'numeric']);
    assert.equal(rereadRows, 0);
    assert.deepEqual(table.warnings, ['Column "ts" looks like a time column but holds plain numbers (line 5: "1.5"), so it is numeric.']);
    const ts = table.columns[0];
    assert.ok(ts.kind === 'numeric' && ts.missing === rowsOf(0, places));
  });

  it('when a time column holds plain numbers then text in one part and nothing in the other, then it is text from the text on', async () => {
    const places = Array.from({ length: 40 }, (_, i) => `${worker(i) === 0 ? '' : i < 20 ? i / 2 : `x${i % 3}`},${i}`);
    const { table, kinds, rereadRows } = await settled('ts,n', places);
    assert.deepEqual(kinds(0), ['time', 'category']);
    assert.equal(rereadRows, rowsOf(0, places));
    assert.deepEqual(table.warnings, ['Column "ts" has a value that is not a number at line 22 ("x2"), so it is treated as text.']);
  });

  it('when ISO times meet a value that is not a time in the second worker\'s batches only, then the column is text from there', async () => {
    const places = Array.from({ length: 40 }, (_, i) => `${i === 13 ? '-' : `2024-01-15 08:${String(i).padStart(2, '0')}:00`},${i}`);
    assert.equal(worker(13), 1);
    const { table, kinds, rereadRows } = await settled('timestamp,n', places);
    assert.deepEqual(kinds(0), ['time', 'category']);
    assert.equal(rereadRows, rowsOf(0, places));
    assert.deepEqual(table.warnings, ['Column "timestamp" looks like a time column but has a value that is not a time at line 15 ("-"), so it is treated as text.']);
  });

  it('when epoch seconds meet text in the first worker\'s batches only, after a quoted line break, then the line is the file\'s', async () => {
    const places = Array.from({ length: 40 }, (_, i) => `${i === 16 ? 'n/a' : 1_700_000_000 + i * 60},${i === 4 ? '"a\nb"' : i}`);
    assert.equal(worker(16), 0);
    // (A text column by its name: only "ts" changes kind.)
    const { table, kinds, rereadRows } = await settled('ts,label', places);
    assert.deepEqual(kinds(0), ['category', 'time']);
    assert.equal(rereadRows, rowsOf(1, places));
    assert.deepEqual(table.warnings, ['Column "ts" looks like a time column but has a value that is not a time at line 19 ("n/a"), so it is treated as text.']);
  });

  it('when a numeric column turns to text in both parts at different rows, then the first turn makes the warning', async () => {
    const places = Array.from({ length: 40 }, (_, i) => `${i === 4 ? 'x' : i === 9 ? 'y' : i},${i}`);
    assert.deepEqual([worker(4), worker(9)], [1, 0]);
    const { table, kinds, rereadRows } = await settled('amount,n', places);
    assert.deepEqual(kinds(0), ['category', 'category']);
    assert.equal(rereadRows, 0);
    assert.deepEqual(table.warnings, ['Column "amount" has a value that is not a number at line 6 ("x"), so it is treated as text.']);
  });

  it('when a time column turns numeric in one part and to text in the other, at different rows, then the first value decides', async () => {
    // Worker 1's first value (place 3) is a plain number: numeric there; worker 0's first (place 7)
    // is text, which turns the numeric column to text.
    const places = Array.from({ length: 40 }, (_, i) => `${i < 3 ? '' : worker(i) === 1 ? i : `t${i % 4}`},${i}`);
    const { table, kinds, rereadRows } = await settled('ts,n', places);
    assert.deepEqual(kinds(0), ['category', 'numeric']);
    assert.equal(rereadRows, rowsOf(1, places));
    assert.deepEqual(table.warnings, ['Column "ts" has a value that is not a number at line 9 ("t3"), so it is treated as text.']);
    // The other way round: text first, in worker 1's batches.
    const first = Array.from({ length: 40 }, (_, i) => `${i < 3 ? '' : worker(i) === 1 ? `t${i % 4}` : i},${i}`);
    const other = await settled('ts,n', first);
    assert.deepEqual(other.kinds(0), ['numeric', 'category']);
    assert.deepEqual(other.table.warnings, ['Column "ts" looks like a time column but has a value that is not a time at line 5 ("t3"), so it is treated as text.']);
  });

  it('when ISO times turn to text in both parts at different rows, then the first turn makes the warning', async () => {
    const places = Array.from({ length: 40 }, (_, i) => `${i === 5 ? '-' : i === 8 ? 'n/a' : `2024-01-15T08:${String(i).padStart(2, '0')}:00Z`},${i}`);
    assert.deepEqual([worker(5), worker(8)], [1, 0]);
    const { table, kinds } = await settled('timestamp,n', places);
    assert.deepEqual(kinds(0), ['category', 'category']);
    assert.deepEqual(table.warnings, ['Column "timestamp" looks like a time column but has a value that is not a time at line 7 ("-"), so it is treated as text.']);
  });

  it('when a part reads its rows again after a change of kind, then it reads its own batches\' bytes only', async () => {
    // Text from row 300 on: each part turns the column to text there, and reads its earlier rows again.
    const bytes = Buffer.from(`amount,n\n${Array.from({ length: 400 }, (_, i) => `${i >= 300 ? 'n/a' : i / 4},${i}`).join('\n')}\n`);
    const split = (): { parts: PartParser[]; others: [number, number][] } => {
      const parts = [new PartParser({ sizeHint: bytes.length }), new PartParser({ sizeHint: bytes.length })];
      const others: [number, number][] = [];
      const splitter = new BatchSplitter(
        (w, msg) => {
          parts[w].receive(msg);
          if (msg.kind === 'piece' && w === 1) others.push([msg.offset, msg.offset + msg.bytes.length]);
        },
        2,
        256,
      );
      splitter.push(bytes);
      splitter.end();
      return { parts, others };
    };
    const want = await split().parts[0].end(await tempCsv(bytes));
    assert.ok(want.ok && want.table.columns[0].kind === 'category' && want.traces[0].demotionRow > 0);
    // The same file but for worker 1's batches, made an unclosed quote: read, it would swallow the rest.
    const { parts, others } = split();
    const scrambled = Buffer.from(bytes);
    for (const [from, to] of others) scrambled.fill('"', from, to);
    assert.deepEqual(await parts[0].end(await tempCsv(scrambled)), want);
  });

  it('when 300 seeded files mix times, numbers, text and missing values in time and numeric columns, then every split gives parseCsvFile\'s outcome, mostly merged', async () => {
    const r = mulberry32(77);
    const pick = <T,>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
    const values: Record<string, () => string> = {
      missing: () => pick(['', 'nan']),
      iso: () => `2024-01-${String(1 + Math.floor(r() * 28)).padStart(2, '0')}${pick([' 08:00:00', 'T10:11:12Z', ''])}`,
      seconds: () => String(1_700_000_000 + Math.floor(r() * 1000)),
      millis: () => String(1_700_000_000_000 + Math.floor(r() * 1000)),
      small: () => pick(['5', '12.5', '0', '-3', '1e5']),
      text: () => pick(['x', 'n/a', '-', '2024-13-45']),
      inf: () => pick(['inf', '-Infinity']),
    };
    const hows = new Map<string, number>();
    let reread = 0;
    for (let k = 0; k < 300; k++) {
      // Each column in stretches of rows, each of one or two sorts of value.
      const names = ['ts', 'amount', 'time'].slice(0, 1 + Math.floor(r() * 3));
      const rows = 5 + Math.floor(r() * 40);
      const stretches = names.map(() =>
        [0, ...Array.from({ length: 3 }, () => Math.floor(r() * rows))].sort((a, b) => a - b).map((from) => ({ from, sorts: [pick(Object.keys(values)), pick(Object.keys(values))] })),
      );
      const lines = [names.join(',')];
      for (let i = 0; i < rows; i++) {
        lines.push(stretches.map((st) => values[(st.findLast((s) => s.from <= i) ?? st[0]).sorts[r() < 0.7 ? 0 : 1]]()).join(','));
      }
      const bytes = Buffer.from(`${lines.join('\n')}\n`);
      const path = await tempCsv(bytes);
      const want = await outcome(() => parseCsvFile(path));
      const splits: Split[] = [
        { workers: 2, batchBytes: 1 + Math.floor(r() * 80) },
        { workers: 3, batchBytes: 1 + Math.floor(r() * 40) },
        { workers: 2, batchBytes: 1 + Math.floor(r() * 200), reports: () => r() < 0.5 },
      ];
      for (const split of splits) {
        const got = await inProcess(bytes, path, {}, split);
        assertSame(got.outcome, want, `case ${k}, ${JSON.stringify(split)}: ${JSON.stringify(lines)}`);
        const how = got.how.replace(/^column "[^"]*": /, '');
        hows.set(how, (hows.get(how) ?? 0) + 1);
        if (got.rereadRows > 0) reread++;
      }
    }
    // Most merge (many after reading some parts' rows again); the rest are the cases the merge leaves to a parse.
    assert.ok((hows.get('merged') ?? 0) > 0.8 * 900, JSON.stringify([...hows]));
    assert.ok(reread > 200, String(reread));
  });
});

describe('shared memory', () => {
  it('when batches are cut and parts parsed (grown, a column turned to text), then pieces and part arrays are on shared memory, posted without detaching anything', async () => {
    const rows = 70_000; // past the first allocation of 65,536 rows
    const text = `n,v,protocol\n${Array.from({ length: rows }, (_, i) => `${i},${i < 60_000 ? i / 4 : 'x'},${i % 3 ? 'TCP' : 'UDP'}`).join('\n')}\n`;
    const bytes = Buffer.from(text);
    const path = await tempCsv(bytes);
    const parts = [new PartParser({ sizeHint: bytes.length }), new PartParser({ sizeHint: bytes.length })];
    const pieces: ArrayBufferLike[] = [];
    const splitter = new BatchSplitter(
      (w, msg) => {
        if (msg.kind === 'piece') pieces.push(msg.bytes.buffer);
        parts[w].receive(msg);
      },
      2,
      64 * 1024,
    );
    splitter.push(bytes);
    splitter.end();
    assert.ok(pieces.length > 4 && pieces.every((b) => b instanceof SharedArrayBuffer));
    let parsed = 0;
    for (const part of parts) {
      const result = await part.end(path);
      assert.ok(result.ok);
      parsed += result.table.rowCount;
      assert.equal(result.table.columns[1].kind, 'category', 'the text turned the column in both parts');
      const arrays = [result.table.rowOffsets, result.table.lineNumbers, ...result.table.columns.map((c) => (c.kind === 'category' ? c.codes : c.values))];
      assert.ok(arrays.every((a) => a.buffer instanceof SharedArrayBuffer));
    }
    assert.equal(parsed, rows);
  });
});

describe('createThreadedCsvParser', () => {
  it('when a flow CSV is pushed in pieces to two workers, then the table is createCsvParser\'s', async () => {
    const options = { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES };
    const bytes = Buffer.from(flowCsv({ rows: 3000, anomalies: 20 }));
    const path = await tempCsv(bytes);
    const want = await reference(bytes, path, options);
    assert.ok('table' in want);
    const parser = createThreadedCsvParser({ ...options, sizeHint: bytes.length, batchBytes: 4096 });
    for (let p = 0; p < bytes.length; p += 1000) parser.push(bytes.subarray(p, p + 1000));
    assert.deepEqual(await parser.end(path), want.table);
  });

  it('when the parts cannot settle a column, then a worker parses the file and the table is the same', async () => {
    // Seconds in the first batch only: the other worker takes the column for milliseconds.
    const text = ['ts,x', ...Array.from({ length: 400 }, (_, i) => `${i < 2 ? 1_700_000_000 + i : 1_700_000_000_000 + i},${i}`)].join('\n');
    const bytes = Buffer.from(text);
    const path = await tempCsv(bytes);
    const want = await reference(bytes, path, {});
    assert.ok('table' in want);
    assert.notEqual((await inProcess(bytes, path, {}, { workers: 2, batchBytes: 512 })).how, 'merged');
    const parser = createThreadedCsvParser({ batchBytes: 512 });
    parser.push(bytes);
    assert.deepEqual(await parser.end(path), want.table);
  });

  it('when the CSV is wrong in the second half, then end rejects with the positioned error one parse gives', async () => {
    const bad = Buffer.from(flowCsv({ rows: 2000, cell: (row, col, v) => (row === 1500 && col === 'bytes_per_packet' ? 'oops' : v) }));
    const options = { requiredColumns: DEFAULT_FEATURES, numericColumns: DEFAULT_FEATURES };
    const path = await tempCsv(bad);
    const want = await reference(bad, path, options);
    assert.ok('error' in want && want.error.line === 1502);
    const parser = createThreadedCsvParser({ ...options, batchBytes: 2048 });
    for (let p = 0; p < bad.length; p += 3000) parser.push(bad.subarray(p, p + 3000));
    const got = await outcome(() => parser.end(path));
    assertSame(got, want, 'threaded');
  });

  it('when maxRows is set or the parse is aborted, then end rejects', async () => {
    const text = Buffer.from(`a\n${'1\n'.repeat(5000)}`);
    const path = await tempCsv(text);
    const limited = createThreadedCsvParser({ maxRows: 4000, batchBytes: 1024 });
    limited.push(text);
    await assert.rejects(limited.end(path), /Line 4002: the file has more than 4000 data rows, the limit/);
    const aborted = createThreadedCsvParser({ batchBytes: 1024 });
    aborted.push(text);
    aborted.abort();
    await assert.rejects(aborted.end(path), /aborted/);
  });
});
