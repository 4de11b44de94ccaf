import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  categoryColumn,
  columnValueAsText,
  CsvFormatError,
  type FlowTable,
  numericColumn,
  parseCsvBuffer,
  parseCsvFile,
  timeColumn,
} from '../../src/ingest/index.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'csv');
const fixture = (name: string): string => join(FIXTURES, name);

const dir = await mkdtemp(join(tmpdir(), 'ingest-test-'));
after(() => rm(dir, { recursive: true, force: true }));
let fileNo = 0;
async function tempCsv(text: string | Buffer): Promise<string> {
  const p = join(dir, `f${fileNo++}.csv`);
  await writeFile(p, text);
  return p;
}

function csvError(fn: () => unknown): CsvFormatError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CsvFormatError, `expected CsvFormatError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a CsvFormatError');
}

async function csvErrorAsync(p: Promise<unknown>): Promise<CsvFormatError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CsvFormatError, `expected CsvFormatError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a CsvFormatError');
}

function texts(table: FlowTable, name: string): string[] {
  return Array.from({ length: table.rowCount }, (_, r) => columnValueAsText(table, name, r));
}

describe('parseCsvFile on our schema', () => {
  it('gives typed columns, offsets and lines', async () => {
    const t = await parseCsvFile(fixture('flows-small.csv'));
    assert.equal(t.rowCount, 4);
    assert.equal(t.header.length, 14);
    assert.deepEqual(
      t.columns.map((c) => c.kind),
      ['numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'numeric', 'time', 'category', 'numeric', 'numeric', 'category', 'category', 'category', 'category'],
    );
    assert.deepEqual(Array.from(numericColumn(t, 'bytes_transferred')!.values), [1500, 98000000, 64, 320]);
    const rr = numericColumn(t, 'retransmission_rate')!;
    assert.ok(Number.isNaN(rr.values[3]));
    assert.equal(rr.missing, 1);
    const ts = timeColumn(t, 'timestamp')!;
    assert.equal(ts.values[0], Date.UTC(2024, 2, 1, 10, 0, 0));
    assert.equal(ts.values[3], Date.UTC(2024, 2, 1, 10, 0, 9));
    assert.equal(ts.format, 'iso');
    const proto = categoryColumn(t, 'protocol')!;
    assert.deepEqual(Array.from(proto.codes, (c) => proto.dictionary[c]), ['TCP', 'TCP', 'TCP', 'UDP']);
    assert.deepEqual(texts(t, 'attack_type'), ['normal', 'data_exfiltration', 'port_scan', 'normal']);
    assert.deepEqual(texts(t, 'label'), ['0', '1', '1', '0']);
    assert.deepEqual(Array.from(t.lineNumbers), [2, 3, 4, 5]);
    assert.equal(t.rowOffsets.length, 5);
    assert.equal(t.rowOffsets[0], t.header.join(',').length + 1);
    assert.equal(t.rowOffsets[4], 585); // the file size: just past the last row
    assert.equal(numericColumn(t, 'protocol'), undefined);
    assert.equal(categoryColumn(t, 'nope'), undefined);
    assert.equal(columnValueAsText(t, 'timestamp', 1), '2024-03-01 10:00:05');
    assert.equal(columnValueAsText(t, 'retransmission_rate', 3), '');
    assert.deepEqual(t.warnings, []);
  });

  it('handles a BOM, CRLF, quoted commas, doubled quotes, line breaks in quotes, no final newline', async () => {
    const t = await parseCsvFile(fixture('bom-crlf-quoted.csv'));
    assert.deepEqual(t.header, ['id', 'note, with comma', 'value']);
    assert.equal(t.rowCount, 3);
    assert.deepEqual(texts(t, 'note, with comma'), ['say "hi"', 'two\r\nlines', 'plain']);
    const v = numericColumn(t, 'value')!;
    assert.equal(v.values[0], 2.5);
    assert.equal(v.values[1], -35);
    assert.ok(Number.isNaN(v.values[2]));
    assert.equal(v.missing, 1);
    assert.deepEqual(Array.from(t.lineNumbers), [2, 4, 6]);
    assert.deepEqual(t.warnings, ['Skipped 1 blank line (the first at line 3).']);
    // Offsets point at each row's first byte: the BOM (3 bytes) and header are before row 0.
    assert.equal(t.rowOffsets[0], 3 + 'id,"note, with comma",value\r\n'.length);
    assert.equal(t.rowOffsets[3], 90);
  });

  it('gives the same table whatever the chunk size', async () => {
    for (const name of ['flows-small.csv', 'bom-crlf-quoted.csv']) {
      const whole = await parseCsvFile(fixture(name));
      for (const chunkBytes of [1, 2, 3, 5, 7, 64]) {
        const t = await parseCsvFile(fixture(name), { chunkBytes });
        assert.deepEqual(t, whole, `${name} with ${chunkBytes}-byte chunks`);
      }
    }
  });
});

describe('errors are positioned', () => {
  it('empty file', async () => {
    const e = await csvErrorAsync(parseCsvFile(fixture('empty.csv')));
    assert.equal(e.line, 1);
    assert.match(e.message, /empty/);
    assert.match(csvError(() => parseCsvBuffer('\n\n  \n')).message, /only blank lines/);
  });

  it('header only', async () => {
    const e = await csvErrorAsync(parseCsvFile(fixture('header-only.csv')));
    assert.equal(e.line, 2);
    assert.match(e.message, /header but no data rows/);
  });

  it('duplicate and empty header names', async () => {
    const d = await csvErrorAsync(parseCsvFile(fixture('duplicate-header.csv')));
    assert.deepEqual([d.line, d.column, d.columnName], [1, 3, 'a']);
    assert.match(d.message, /"a" appears twice in the header \(columns 1 and 3\)/);
    const m = await csvErrorAsync(parseCsvFile(fixture('empty-header-name.csv')));
    assert.deepEqual([m.line, m.column], [1, 2]);
    assert.match(m.message, /empty column name/);
  });

  it('ragged rows say expected and got', async () => {
    const e = await csvErrorAsync(parseCsvFile(fixture('ragged.csv')));
    assert.equal(e.line, 3);
    assert.equal(e.column, 3);
    assert.equal(e.message, 'Line 3: expected 3 fields (as in the header), got 2');
    const more = csvError(() => parseCsvBuffer('a,b\n1,2\n\n1,2,3\n'));
    assert.deepEqual([more.line, more.column], [4, 3]);
    assert.match(more.message, /expected 2 fields .*got 3/);
  });

  it('unterminated quote at the line it opens', async () => {
    const e = await csvErrorAsync(parseCsvFile(fixture('unterminated.csv'), { chunkBytes: 4 }));
    assert.deepEqual([e.line, e.column], [3, 2]);
    assert.match(e.message, /unterminated quote/);
  });

  it('text after a closing quote', () => {
    const e = csvError(() => parseCsvBuffer('a,b\n"x"y,2\n'));
    assert.deepEqual([e.line, e.column], [2, 1]);
  });

  it('a non-number in a numeric column names line, column, name and a shortened value', async () => {
    const e = await csvErrorAsync(parseCsvFile(fixture('bad-number.csv'), { numericColumns: ['packet_count'] }));
    assert.deepEqual([e.line, e.column, e.columnName], [3, 2, 'packet_count']);
    assert.equal(e.message, 'Line 3, column 2 (packet_count): expected a number, got "=cmd|calc"');
    const long = csvError(() => parseCsvBuffer(`x\n${'y'.repeat(500)}\n`, { numericColumns: ['x'] }));
    assert.ok(long.message.length < 120, long.message);
    assert.match(long.message, /y…"$/);
    const inf = csvError(() => parseCsvBuffer('x\n1\n-inf\n', { numericColumns: ['x'] }));
    assert.match(inf.message, /Line 3, column 1 \(x\): expected a number, got "-inf" \(not a finite number\)/);
  });

  it('missing required columns at line 1, naming what is there', () => {
    const e = csvError(() => parseCsvBuffer('a,b\n1,2\n', { requiredColumns: ['a', 'bytes', 'c'] }));
    assert.equal(e.line, 1);
    assert.equal(e.message, 'Line 1: missing required columns bytes, c; the header has a, b');
  });

  it('more rows than maxRows', () => {
    const e = csvError(() => parseCsvBuffer('a\n1\n2\n3\n', { maxRows: 2 }));
    assert.equal(e.line, 4);
    assert.match(e.message, /more than 2 data rows/);
    assert.equal(parseCsvBuffer('a\n1\n2\n', { maxRows: 2 }).rowCount, 2);
  });
});

describe('type inference', () => {
  it('a column that turns out to hold text keeps every value as written', async () => {
    const text = 'x,y\n1.50,1\n 2 ,2\n"0003",3\n,4\nabc,5\n1.50,6\n';
    for (const t of [parseCsvBuffer(text), await parseCsvFile(await tempCsv(text), { chunkBytes: 3 })]) {
      const x = categoryColumn(t, 'x')!;
      assert.deepEqual(
        Array.from(x.codes, (c) => (c < 0 ? null : x.dictionary[c])),
        ['1.50', '2', '0003', null, 'abc', '1.50'],
      );
      assert.equal(new Set(x.dictionary).size, x.dictionary.length);
      assert.deepEqual(Array.from(numericColumn(t, 'y')!.values), [1, 2, 3, 4, 5, 6]);
      assert.match(t.warnings.join(' '), /Column "x" has a value that is not a number at line 6 \("abc"\)/);
    }
  });

  it('known text names are categories even when numeric; forced numeric wins', () => {
    const t = parseCsvBuffer('protocol,label,n\n6,0,1\n17,1,2\n');
    assert.equal(t.columns[0].kind, 'category');
    assert.equal(t.columns[1].kind, 'category');
    const f = parseCsvBuffer('protocol,label\n6,0\n17,1\n', { numericColumns: ['label'] });
    assert.deepEqual(Array.from(numericColumn(f, 'label')!.values), [0, 1]);
  });

  it('numbers: exponent, signs, nan and empty missing, inf missing with a warning', () => {
    const t = parseCsvBuffer('v\n1e3\n+2.5\n-.5\nNaN\n\nnan\ninf\n1E-2\n');
    const v = numericColumn(t, 'v')!;
    assert.deepEqual(Array.from(v.values).map((x) => (Number.isNaN(x) ? null : x)), [1000, 2.5, -0.5, null, null, null, 0.01]);
    assert.equal(v.missing, 3);
    assert.equal(t.rowCount, 7); // the empty line is a blank line, skipped
    assert.match(t.warnings.join(' '), /1 value not finite \(inf\) treated as missing/);
    assert.equal(parseCsvBuffer('v,w\n0x10,1\n').columns[0].kind, 'category');
    assert.equal(parseCsvBuffer('v,w\n1e,1\n').columns[0].kind, 'category');
  });

  it('a literal that overflows a double (1e999) is not finite, exactly like inf', () => {
    const t = parseCsvBuffer('v\n1\n1e999\n-1e400\n2\n');
    const v = numericColumn(t, 'v')!;
    assert.deepEqual(Array.from(v.values).map((x) => (Number.isNaN(x) ? null : x)), [1, null, null, 2]);
    assert.equal(v.missing, 2);
    assert.match(t.warnings.join(' '), /2 values not finite \(inf\) treated as missing/);
    assert.throws(
      () => parseCsvBuffer('v,w\n1,2\n1e999,3\n', { numericColumns: ['v'] }),
      (e: unknown) => e instanceof CsvFormatError && e.line === 3 && e.column === 1,
    );
  });

  it('times: ISO with space, T, Z, offsets and fractions; epoch seconds and millis', () => {
    const t = parseCsvBuffer(
      'timestamp,ts,time,start_time\n' +
        '2024-03-01 10:00:00,1709287200,1709287200000,2024-03-01T10:00:00Z\n' +
        '2024-03-01 10:00:00.250,1709287200.5,1709287200250,2024-03-01T12:00:00+02:00\n' +
        ',,,2024-03-01T05:30:00-0430\n' +
        '2024-02-29,1709287200,1709287200000,2024-03-01t10:00:00.123456z\n',
    );
    const base = Date.UTC(2024, 2, 1, 10);
    const tc = (n: string) => Array.from(timeColumn(t, n)!.values);
    assert.deepEqual(tc('timestamp'), [base, base + 250, NaN, Date.UTC(2024, 1, 29)]);
    assert.deepEqual(tc('ts'), [base, base + 500, NaN, base]);
    assert.deepEqual(tc('time'), [base, base + 250, NaN, base]);
    assert.deepEqual(tc('start_time'), [base, base, base, base + 123.456]);
    assert.equal(timeColumn(t, 'ts')!.format, 'epoch-seconds');
    assert.equal(timeColumn(t, 'time')!.format, 'epoch-millis');
    assert.equal(timeColumn(t, 'timestamp')!.missing, 1);
  });

  it('a time-named column that is not times becomes text or numeric, with original values', async () => {
    const text = 'timestamp,time,date\n2024-03-01 10:00:00,0.5,2024-02-30\n2024-03-01 10:00:01,1.25,x\nyesterday,2,x\n';
    for (const t of [parseCsvBuffer(text), await parseCsvFile(await tempCsv(text), { chunkBytes: 5 })]) {
      assert.deepEqual(texts(t, 'timestamp'), ['2024-03-01 10:00:00', '2024-03-01 10:00:01', 'yesterday']);
      assert.equal(t.columns[0].kind, 'category');
      assert.deepEqual(Array.from(numericColumn(t, 'time')!.values), [0.5, 1.25, 2]);
      assert.equal(t.columns[2].kind, 'category'); // February 30th is not a date
      assert.deepEqual(texts(t, 'date'), ['2024-02-30', 'x', 'x']);
    }
  });
});

describe('real data', () => {
  const odds = join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'odds', 'smtp.csv');
  const cic = join(import.meta.dirname, '..', '..', '..', 'shared', 'datasets', 'flows', 'cicids2017', 'Portscan_2500.csv');

  it('ODDS smtp (95,156 rows) parses to numbers', { skip: existsSync(odds) ? false : `dataset absent: ${odds}` }, async () => {
    const t = await parseCsvFile(odds, { numericColumns: ['f0', 'f1', 'f2'] });
    assert.equal(t.rowCount, 95156);
    assert.deepEqual(t.header, ['f0', 'f1', 'f2', 'label']);
    const f0 = numericColumn(t, 'f0')!;
    assert.equal(f0.missing, 0);
    assert.equal(f0.values[0], 0.09531017980432493);
    const label = categoryColumn(t, 'label')!;
    assert.equal(Array.from(label.codes).filter((c) => label.dictionary[c] === '1').length, 30);
  });

  it('CICFlowMeter export (91 columns) parses with addresses as text and Timestamp as time', { skip: existsSync(cic) ? false : `dataset absent: ${cic}` }, async () => {
    const t = await parseCsvFile(cic);
    assert.equal(t.rowCount, 2500);
    assert.equal(t.header.length, 91);
    assert.equal(t.columns.find((c) => c.name === 'Src IP')!.kind, 'category');
    assert.equal(t.columns.find((c) => c.name === 'Timestamp')!.kind, 'time');
    assert.equal(t.columns.find((c) => c.name === 'Flow Duration')!.kind, 'numeric');
  });
});
