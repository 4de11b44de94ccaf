/**
 * Our tokenizer against papaparse and csv-parse on seeded random CSVs full of quotes, commas and
 * line breaks; our number decoder against Number(); file parsing in random chunk sizes against
 * the in-memory parse.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse as csvParseSync } from 'csv-parse/sync';
import Papa from 'papaparse';
import { decodeNumber, type DecodeResult, parseCsvBuffer, parseCsvFile, ST_NONFINITE, ST_OK, tokenizeCsv } from '../../src/ingest/index.ts';
import { mulberry32 } from '../../src/lib/prng.ts';

const rng = mulberry32;

const PLAIN = 'abcxyz019.-+ é€';
const SPECIAL = [',', '"', '\n', '\r\n', ' ', '""'];

/** A random field value (string) and how it is written. */
function field(r: () => number): { value: string; written: string } {
  const len = Math.floor(r() * 8);
  let value = '';
  for (let i = 0; i < len; i++) {
    value += r() < 0.25 ? SPECIAL[Math.floor(r() * SPECIAL.length)] : PLAIN[Math.floor(r() * PLAIN.length)];
  }
  const mustQuote = /[",\r\n]|^\s|\s$/.test(value);
  if (mustQuote || r() < 0.2) return { value, written: `"${value.replaceAll('"', '""')}"` };
  return { value, written: value };
}

function randomCsv(r: () => number): { text: string; rows: string[][] } {
  const cols = 1 + Math.floor(r() * 5);
  const nrows = 1 + Math.floor(r() * 12);
  const eol = r() < 0.5 ? '\n' : '\r\n';
  const rows: string[][] = [];
  const lines: string[] = [];
  for (let i = 0; i < nrows; i++) {
    const row: string[] = [];
    const written: string[] = [];
    for (let c = 0; c < cols; c++) {
      // A single empty field would be a blank line (skipped by all three): not in one-column files.
      let f = field(r);
      while (cols === 1 && f.value === '') f = field(r);
      row.push(f.value);
      written.push(f.written);
    }
    rows.push(row);
    lines.push(written.join(','));
  }
  const text = lines.join(eol) + (r() < 0.5 ? eol : '');
  return { text, rows };
}

const dir = await mkdtemp(join(tmpdir(), 'ingest-diff-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('tokenizer vs papaparse and csv-parse', () => {
  it('agrees on 1,500 seeded random CSVs with quotes, commas and line breaks', () => {
    const r = rng(20240301);
    for (let k = 0; k < 1500; k++) {
      const { text, rows } = randomCsv(r);
      const ours = tokenizeCsv(text);
      assert.deepEqual(ours, rows, `case ${k}: ${JSON.stringify(text)}`);
      const papa = Papa.parse<string[]>(text, { skipEmptyLines: true }).data;
      assert.deepEqual(ours, papa, `papaparse, case ${k}: ${JSON.stringify(text)}`);
      const cp = csvParseSync(text, { relax_column_count: true }) as string[][];
      assert.deepEqual(ours, cp, `csv-parse, case ${k}: ${JSON.stringify(text)}`);
    }
  });

  it('file parsing in random chunk sizes equals the in-memory parse', async () => {
    const r = rng(7);
    for (let k = 0; k < 60; k++) {
      const { text } = randomCsv(r);
      // Give it a unique, valid header of the right width.
      const width = tokenizeCsv(text)[0].length;
      const full = `${Array.from({ length: width }, (_, i) => `c${i}`).join(',')}\n${text}`;
      const path = join(dir, `k${k}.csv`);
      await writeFile(path, full);
      const mem = parseCsvBuffer(full);
      for (const chunkBytes of [1 + Math.floor(r() * 9), 16 + Math.floor(r() * 50)]) {
        assert.deepEqual(await parseCsvFile(path, { chunkBytes }), mem, `case ${k}, chunks of ${chunkBytes}`);
      }
    }
  });
});

describe('decodeNumber equals Number() bit for bit', () => {
  it('on 200,000 seeded numbers in every notation', () => {
    const r = rng(99);
    const res: DecodeResult = { status: ST_OK, epoch: false };
    for (let k = 0; k < 200000; k++) {
      const mag = Math.floor(r() * 40) - 20;
      const x = (r() - 0.5) * 10 ** mag;
      const form = k % 6;
      const t =
        form === 0 ? String(x)
        : form === 1 ? x.toFixed(Math.floor(r() * 12))
        : form === 2 ? x.toExponential(Math.floor(r() * 20))
        : form === 3 ? x.toPrecision(1 + Math.floor(r() * 21))
        : form === 4 ? String(Math.floor(r() * 2 ** 60))
        : `${Math.floor(r() * 1e6)}.${String(Math.floor(r() * 1e12)).padStart(12, '0')}e${Math.floor(r() * 40) - 20}`;
      const b = Buffer.from(t);
      const v = decodeNumber(b, 0, b.length, res);
      assert.equal(res.status, ST_OK, t);
      assert.ok(Object.is(v, Number(t)), `${t}: ${v} vs ${Number(t)}`);
    }
  });

  it('edge cases', () => {
    const res: DecodeResult = { status: ST_OK, epoch: false };
    const check = (t: string, expected: number | null) => {
      const b = Buffer.from(t);
      const v = decodeNumber(b, 0, b.length, res);
      if (expected === null) assert.notEqual(res.status, ST_OK, t);
      else assert.ok(Object.is(v, expected) && res.status === ST_OK, `${t} → ${v}`);
    };
    check('0', 0);
    check('-0', -0);
    check('9007199254740993', 9007199254740992);
    check('123456789012345678901234567890', 1.2345678901234568e29);
    for (const [t, inf] of [['1e400', Infinity], ['-1e999', -Infinity]] as const) {
      const b = Buffer.from(t);
      assert.ok(Object.is(decodeNumber(b, 0, b.length, res), inf), t);
      assert.equal(res.status, ST_NONFINITE, `${t}: overflow is not finite, like 'inf'`);
    }
    check('1e-400', 0);
    check('5.', 5);
    check('.5', 0.5);
    check('0.1', 0.1);
    check('1.7976931348623157e308', 1.7976931348623157e308);
    check('4.9e-324', 5e-324);
    for (const bad of ['.', '-', '+', 'e5', '1e', '1e+', '1.2.3', '0x10', '1_000', '١']) check(bad, null);
  });
});
