/** rows.bin: encoded at analysis time, results.csv written from it later with the same bytes. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FlowFinding } from '../../src/findings/types.ts';
import { parseCsvFile } from '../../src/ingest/index.ts';
import { decodeRowsFile, encodeRowsFile, writeRowsFile, writeScoredDataset, writeScoredDatasetFromRows } from '../../src/reports/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'rows-file-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const finding = (row: number, type: FlowFinding['type'], incidentId: string | null): FlowFinding => ({
  row,
  type,
  confidence: 0.5,
  reason: 'test',
  technique: null,
  incidentId,
  source: 'detector',
});

describe('rows.bin', () => {
  it('when results.csv is written from rows.bin, then it has the bytes writeScoredDataset writes', async () => {
    // Quoted cells, formula cells, blank lines, CRLF, a multi-line cell, an incident id that needs quoting.
    const text = 'a,b,c\r\n1,"x, y",-2\r\n\r\n2,=2+3,+4\r\n3,"multi\nline",5\r\n4, spaced ,6\n5,@x,7';
    const source = join(dir, 'src.csv');
    await writeFile(source, text);
    const table = await parseCsvFile(source);
    const input = {
      table,
      scores: Float64Array.from([-0.3, -0.7, -0.4, NaN, -0.5123456789]),
      severity: Float64Array.from([10, 90.125, 20, 0, 33.335]),
      isAnomaly: Uint8Array.from([0, 1, 0, 1, 0]),
      flowFindings: new Map([
        [1, finding(1, 'ddos', 'INC-002')],
        [2, finding(2, 'beaconing', null)],
        [4, finding(4, 'port_scan', '=INC,3')],
      ]),
    };
    const eager = join(dir, 'eager.csv');
    await writeScoredDataset({ sourcePath: source, outPath: eager, ...input });
    const rowsPath = join(dir, 'rows.bin');
    await writeRowsFile(rowsPath, input);
    const lazy = join(dir, 'lazy.csv');
    await writeScoredDatasetFromRows({ sourcePath: source, rowsPath, outPath: lazy, tmpPath: join(dir, 'lazy.csv.mine.tmp') });
    assert.equal((await readFile(lazy)).toString('hex'), (await readFile(eager)).toString('hex'));
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  });

  it('when decoded, then every value comes back exactly', () => {
    const rowOffsets = Float64Array.from([6, 10, 15, 21]);
    const buf = encodeRowsFile({
      table: { header: ['x', 'ü'], rowCount: 3, rowOffsets },
      scores: Float64Array.from([-0.1 - 1e-17, -0.6666666666666666, 0.5]),
      severity: Float64Array.from([1 / 3, 99.995, 0]),
      isAnomaly: Uint8Array.from([0, 1, 1]),
      flowFindings: new Map([[2, finding(2, 'brute_force', 'INC-009')]]),
    });
    const back = decodeRowsFile(buf);
    assert.deepEqual(back.header, ['x', 'ü']);
    assert.equal(back.rowCount, 3);
    assert.deepEqual(Array.from(back.rowOffsets), [6, 10, 15, 21]);
    assert.deepEqual(Array.from(back.scores), [-0.1 - 1e-17, -0.6666666666666666, 0.5]);
    assert.deepEqual(Array.from(back.severity), [1 / 3, 99.995, 0]);
    assert.deepEqual(Array.from(back.isAnomaly), [0, 1, 1]);
    assert.deepEqual([0, 1, 2].map((r) => back.typeOf(r)), ['normal', 'untyped', 'brute_force']);
    assert.deepEqual([0, 1, 2].map((r) => back.incidentOf(r)), [null, null, 'INC-009']);
  });

  it('when the file is cut short or is something else, then decoding throws', () => {
    const buf = encodeRowsFile({
      table: { header: ['x'], rowCount: 2, rowOffsets: Float64Array.from([2, 4, 6]) },
      scores: new Float64Array(2),
      severity: new Float64Array(2),
      isAnomaly: new Uint8Array(2),
    });
    assert.throws(() => decodeRowsFile(buf.subarray(0, buf.length - 1)), /rows\.bin is/);
    assert.throws(() => decodeRowsFile(Buffer.from('not rows at all')), /not a rows\.bin file/);
  });

  it('when the source no longer matches, then nothing is left behind', async () => {
    const source = join(dir, 'changing.csv');
    await writeFile(source, 'a\n1\n2\n3\n');
    const table = await parseCsvFile(source);
    const rowsPath = join(dir, 'changing.bin');
    await writeRowsFile(rowsPath, { table, scores: new Float64Array(3), severity: new Float64Array(3), isAnomaly: new Uint8Array(3) });
    await writeFile(source, 'a\n1\n');
    const out = join(dir, 'never.csv');
    await assert.rejects(writeScoredDatasetFromRows({ sourcePath: source, rowsPath, outPath: out, tmpPath: `${out}.x.tmp` }), /no longer matches/);
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.x.tmp`), false);
  });
});
