import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeSections, Sections } from '../../src/reports/sections.ts';

function roundTrip(texts: readonly string[]): { decoded: string[]; bytes: Buffer } {
  const bytes = Buffer.concat(encodeSections('TESTBIN1', { v: 1 }, [['n', Int32Array.of(7, 8)], ['texts', texts], ['after', Float64Array.of(1.5)]]));
  const s = Sections.decode<{ v: number }>(bytes, 'TESTBIN1', 'test');
  assert.deepEqual([...s.i32('n')], [7, 8]);
  assert.deepEqual([...s.f64('after')], [1.5], 'the section after the texts is where the table says');
  return { decoded: texts.map((_, k) => s.text('texts', k)), bytes };
}

test('when every text is ASCII, then each comes back as written', () => {
  const texts = ['Port scan: 40 ports', '', '10.0.0.1', 'a,"b"\nc', ' '.repeat(3)];
  assert.deepEqual(roundTrip(texts).decoded, texts);
  assert.deepEqual(roundTrip([]).decoded, []);
});

test('when a text is not ASCII, then every text still comes back as written, as UTF-8', () => {
  const texts = ['plain', 'café → 10 MB', '🙂 emoji', '', 'Ωmega', 'end'];
  const { decoded, bytes } = roundTrip(texts);
  assert.deepEqual(decoded, texts);
  assert.ok(bytes.includes(Buffer.from('café → 10 MB', 'utf8')), 'UTF-8 bytes in the file');
});

test('ASCII and non-ASCII lists with the same characters give files that differ only where UTF-8 needs more bytes', () => {
  const ascii = roundTrip(['ab', 'c']).bytes;
  const same = Buffer.concat(encodeSections('TESTBIN1', { v: 1 }, [['n', Int32Array.of(7, 8)], ['texts', ['a', 'bc']], ['after', Float64Array.of(1.5)]]));
  assert.equal(ascii.length, same.length);
  assert.notDeepEqual(ascii, same, 'offsets differ');
});
