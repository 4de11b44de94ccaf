/** Line-per-element JSON arrays: valid JSON, and any range read through the index. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { jsonLinesIndex, readJsonLinesRange, writeJsonLines, writeJsonLinesArray } from '../../src/storage/index.ts';

const dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-jsonl-'));
after(() => rm(dir, { recursive: true, force: true }));

describe('JSON lines arrays', () => {
  it('when written, then the file parses to the same array and every range reads back', async () => {
    const items = Array.from({ length: 257 }, (_, i) => ({
      row: i,
      text: i % 5 === 0 ? `line\nbreak, "quote" ü ${i}` : `plain ${i}`,
      values: { a: i / 7, b: i % 3 === 0 ? null : 'x,]' },
      list: [{ w: 0.1 * i }],
    }));
    const file = path.join(dir, 'a.json');
    await writeJsonLinesArray(file, items);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), items);
    const index = await jsonLinesIndex(file);
    assert.ok(index);
    assert.equal(index.length, items.length + 1);
    for (const [from, to] of [[0, 25], [25, 50], [250, 275], [256, 257], [0, 257], [300, 325], [10, 10]] as const) {
      assert.deepEqual(await readJsonLinesRange(file, index, from, to), items.slice(from, to), `${from}..${to}`);
    }
  });

  it('when written, then the bytes are each element\'s JSON.stringify on its own line, made as written or from an array', async () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ i, text: 'ü "q"\n x'.repeat(i % 300), n: i % 11 === 0 ? null : i / 3 }));
    const expected = `[\n${items.map((x) => JSON.stringify(x)).join(',\n')}\n]\n`;
    await writeJsonLinesArray(path.join(dir, 'b.json'), items);
    assert.equal(await readFile(path.join(dir, 'b.json'), 'utf8'), expected);
    const made: number[] = [];
    await writeJsonLines(path.join(dir, 'c.json'), items.length, (i) => {
      made.push(i);
      return items[i];
    });
    assert.equal(await readFile(path.join(dir, 'c.json'), 'utf8'), expected);
    assert.deepEqual(made, items.map((x) => x.i), 'each element made once, in order');
    await writeJsonLines(path.join(dir, 'd.json'), 0, () => assert.fail('no element'));
    assert.equal(await readFile(path.join(dir, 'd.json'), 'utf8'), '[\n]\n');
  });

  it('when the array is empty, then it is [] with no elements to read', async () => {
    const file = path.join(dir, 'empty.json');
    await writeJsonLinesArray(file, []);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), []);
    const index = await jsonLinesIndex(file);
    assert.deepEqual(Array.from(index ?? [-1]), [2]);
    assert.deepEqual(await readJsonLinesRange(file, index!, 0, 25), []);
  });

  it('when the file is one line (JSON.stringify), then there is no index', async () => {
    const file = path.join(dir, 'one-line.json');
    await writeFile(file, JSON.stringify([{ a: 1 }, { a: 2 }]));
    assert.equal(await jsonLinesIndex(file), null);
  });
});
