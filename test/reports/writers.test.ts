import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Explanation } from '../../src/detection/types.ts';
import type { FlowFinding } from '../../src/findings/types.ts';
import { parseCsvFile, tokenizeCsv } from '../../src/ingest/index.ts';
import { mulberry32 } from '../../src/lib/prng.ts';
import {
  appendedNames,
  csvCell,
  explanationSentence,
  formatValue,
  isFormulaLike,
  readOriginalLines,
  topFeaturesText,
  writeAnomalyReport,
  writeScoredDataset,
} from '../../src/reports/index.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'csv');
const dir = await mkdtemp(join(tmpdir(), 'reports-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const explanation = (row: number): Explanation => ({
  row,
  contributions: [
    { feature: 'bytes_transferred', value: 98000000, median: 1500, percentile: 99.9, direction: 'high', weight: 0.62 },
    { feature: 'packet_count', value: 1, median: 10, percentile: 2, direction: 'low', weight: 0.21 },
    { feature: 'connection_duration', value: 3.25, median: 1, percentile: 70, direction: 'high', weight: 0.17 },
  ],
});

const finding = (row: number, type: FlowFinding['type'], incidentId: string | null): FlowFinding => ({
  row,
  type,
  confidence: 0.875,
  reason: 'test',
  technique: null,
  incidentId,
  source: 'detector',
});

describe('cells', () => {
  it('prefixes formula-like text and leaves real numbers alone', () => {
    assert.equal(csvCell('=1+1'), "'=1+1");
    assert.equal(csvCell('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvCell('+cmd'), "'+cmd");
    assert.equal(csvCell('-danger'), "'-danger");
    assert.equal(csvCell('\tTAB'), "'\tTAB");
    assert.equal(csvCell('\rx'), `"'\rx"`);
    assert.equal(csvCell('-3.5'), '-3.5');
    assert.equal(csvCell('+1e3'), '+1e3');
    assert.equal(csvCell('-'), "'-");
    assert.equal(csvCell('=HYPERLINK("x","y")'), `"'=HYPERLINK(""x"",""y"")"`);
    assert.equal(isFormulaLike('12'), false);
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell(' padded '), '" padded "');
    assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
    assert.equal(csvCell(''), '');
  });

  it('renames appended columns that the source already has', () => {
    assert.deepEqual(appendedNames(['attack_type', 'detected_severity', 'severity'], ['anomaly_score', 'severity', 'attack_type']), [
      'anomaly_score',
      'detected_severity_2',
      'detected_attack_type',
    ]);
  });
});

describe('explanation text', () => {
  it('says value vs median and percentile for the main features', () => {
    assert.equal(
      explanationSentence(explanation(0)),
      'bytes_transferred is 98,000,000, 65,333x the typical 1,500 (median), higher than 99.9% of flows; ' +
        'packet_count is 1, 10x below the typical 10 (median), lower than 98% of flows; ' +
        'connection_duration is 3.25, 3.3x the typical 1 (median), higher than 70% of flows.',
    );
    assert.equal(topFeaturesText(explanation(0)), 'bytes_transferred (high, 62%); packet_count (low, 21%); connection_duration (high, 17%)');
    assert.equal(explanationSentence({ row: 0, contributions: [] }), 'No single feature stands out: the combination of values is unusual.');
  });
});

describe('formatValue', () => {
  // What it printed before its own integer and decimal formatting replaced Intl (same output).
  const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  const DECIMAL = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4 });
  const intl = (v: number) => {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'missing' : String(v);
    const a = Math.abs(v);
    if (a >= 1e15 || (a > 0 && a < 1e-6)) return v.toPrecision(3);
    return Number.isInteger(v) ? INTEGER.format(v) : DECIMAL.format(v);
  };

  it('when numbers are formatted, then the text is what Intl en-US gives, ties and carries included', () => {
    const values = [0, 1, -1, 7, 999, 1000, -1234567, 999999999999999, 1e15, 123456.7, 999.95, 9999.5, 99995.5, 0.99995, 9.9995,
      0.0001, 1.0005, 2.0015, 123.45, 1234.5, 0.00012345, 1e-6, 9.99e-7, 0.1 + 0.2, -0.5, -2.5, 1.5, 65333.33, NaN, Infinity, -Infinity];
    const random = mulberry32(20240115);
    for (let i = 0; i < 100_000; i++) {
      const v = (random() * 2 - 1) * 10 ** (Math.floor(random() * 22) - 7);
      const r = random();
      values.push(r < 0.25 ? Math.round(v) : r < 0.5 ? Number(v.toPrecision(5)) : r < 0.75 ? Math.round(v * 1000) / 1000 : v);
    }
    // (-0 reads back as 0: the cache keys 0 and -0 as one, as it always did.)
    for (const v of values) if (!Object.is(v, -0)) assert.equal(formatValue(v), intl(v), String(v));
  });

  it('when a ratio is 100 or more, then it is a grouped integer as Intl rounds it', () => {
    const random = mulberry32(5);
    for (let i = 0; i < 20_000; i++) {
      const median = 1 + random() * 1000;
      const value = median * (100 + random() * 1e6);
      const e = { row: 0, contributions: [{ feature: 'f', value, median, percentile: 50, direction: 'high' as const, weight: 1 }] };
      assert.equal(explanationSentence(e), `f is ${intl(value)}, ${INTEGER.format(value / median)}x the typical ${intl(median)} (median), higher than 50% of flows.`);
    }
  });
});

describe('readOriginalLines', () => {
  it('when records are copied byte for byte or re-escaped, then each is its fields escaped one by one', async () => {
    // Records that can be copied and records that cannot: spaces around fields, signs, formulas,
    // quotes, tabs, non-ASCII, empty fields, a CRLF line end, a last line without one.
    const records = [
      'a,b,c',
      '1,plain,3',
      '1, spaced,3',
      '1,trailing ,3',
      '-1,2,3',
      '+1,x,y',
      '1,-danger,3',
      '=1+1,2,3',
      '@x,2,3',
      '1,"quoted",3',
      '1,"a, b",3',
      '1,"say ""hi""",3',
      '1,"two\nlines",3',
      '1,tab\tinside,3',
      '1,ünï,3',
      ',,',
      '1,,',
      '1,a"b,3',
      '1,2,3\r',
      '4,5,6',
    ];
    const source = join(dir, 'originals.csv');
    await writeFile(source, records.join('\n'));
    const table = await parseCsvFile(source);
    const n = table.rowCount;
    const order = Array.from({ length: n }, (_, k) => (k * 7) % n); // not in file order
    const lines = await readOriginalLines(
      source,
      order.map((r) => table.rowOffsets[r]),
      order.map((r) => table.rowOffsets[r + 1]),
    );
    const fields = tokenizeCsv(await readFile(source)).slice(1);
    assert.equal(fields.length, n);
    order.forEach((r, k) => assert.equal(lines[k], fields[r].map(csvCell).join(','), `row ${r}: ${JSON.stringify(lines[k])}`));
    assert.equal(lines[order.indexOf(0)], '1,plain,3');
    assert.equal(lines[order.indexOf(1)], '1,spaced,3');
    assert.equal(lines[order.indexOf(3)], '-1,2,3');
    assert.equal(lines[order.indexOf(10)], '1,"say ""hi""",3');
  });
});

describe('writeAnomalyReport', () => {
  it('writes the rows in the given order with their original values and the findings', async () => {
    const source = join(FIXTURES, 'flows-small.csv');
    const table = await parseCsvFile(source);
    const out = join(dir, 'anomalies.csv');
    const scores = Float64Array.from([-0.4, -0.71234567, -0.65, -0.45]);
    const severity = Float64Array.from([10, 97.5, 88.25, 20]);
    await writeAnomalyReport({
      sourcePath: source,
      table,
      outPath: out,
      rows: [1, 2],
      scores,
      severity,
      explanations: new Map([[1, explanation(1)], [2, explanation(2)]]),
      flowFindings: new Map([[1, finding(1, 'data_exfiltration', 'INC-001')]]),
      recommendationFor: (row) => `Act on row ${row}, now`,
    });
    const rows = tokenizeCsv(await readFile(out));
    const srcRows = tokenizeCsv(await readFile(source));
    assert.deepEqual(rows[0], [
      ...srcRows[0],
      'anomaly_score',
      'severity',
      'detected_attack_type',
      'attack_confidence',
      'incident_id',
      'top_features',
      'explanation',
      'recommendation',
    ]);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[1].slice(0, 14), srcRows[2]);
    assert.deepEqual(rows[1].slice(14, 19), ['-0.712346', '97.50', 'data_exfiltration', '0.88', 'INC-001']);
    assert.equal(rows[1][19], topFeaturesText(explanation(1)));
    assert.equal(rows[1][20], explanationSentence(explanation(1)));
    assert.equal(rows[1][21], 'Act on row 1, now');
    assert.deepEqual(rows[2].slice(0, 14), srcRows[3]);
    assert.deepEqual(rows[2].slice(14, 19), ['-0.650000', '88.25', 'untyped', '', '']);
    assert.deepEqual(await readdir(dir).then((f) => f.filter((x) => x.endsWith('.tmp'))), []);
  });

  it('keeps quoted originals exact and escapes formulas from the upload', async () => {
    const source = join(FIXTURES, 'injection.csv');
    const table = await parseCsvFile(source);
    const out = join(dir, 'inj.csv');
    const n = table.rowCount;
    await writeAnomalyReport({
      sourcePath: source,
      table,
      outPath: out,
      rows: [3, 0, 2, 1],
      scores: new Float64Array(n).fill(-0.6),
      severity: Float64Array.from([90, 80, 70, 95]),
      explanations: new Map(),
    });
    const text = await readFile(out, 'utf8');
    const rows = tokenizeCsv(text);
    assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 3)), [
      ['10.0.0.4', "'\tTAB", '1e3'],
      ['10.0.0.1', `'=HYPERLINK("http://x")`, '-3.5'],
      ['10.0.0.3', "'-danger", '12'],
      ['10.0.0.2', "'@SUM(A1)", '+7'],
    ]);
    assert.deepEqual(rows[1].slice(3, 6), ['-0.600000', '95.00', 'untyped']);
    assert.match(rows[1][10], /^Review this flow/);
    // No line of the file starts a cell with a bare formula character.
    for (const r of rows.slice(1)) for (const cell of r) assert.ok(!/^[=@\t\r]/.test(cell) && !/^[+-][^0-9.]/.test(cell), cell);
  });

  it('reads back quoted fields with commas, quotes and line breaks', async () => {
    const source = join(FIXTURES, 'bom-crlf-quoted.csv');
    const table = await parseCsvFile(source);
    const out = join(dir, 'quoted.csv');
    await writeAnomalyReport({
      sourcePath: source,
      table,
      outPath: out,
      rows: [2, 1, 0],
      scores: Float64Array.from([-0.5, -0.6, -0.7]),
      severity: Float64Array.from([60, 70, 80]),
      explanations: new Map(),
    });
    const back = await parseCsvFile(out);
    assert.deepEqual(back.header.slice(0, 3), ['id', 'note, with comma', 'value']);
    const rows = tokenizeCsv(await readFile(out));
    assert.deepEqual(rows.slice(1).map((r) => r.slice(0, 3)), [
      ['3', 'plain', 'nan'],
      ['2', 'two\r\nlines', '-3.5e1'],
      ['1', 'say "hi"', '2.5'],
    ]);
  });
});

describe('writeScoredDataset', () => {
  it('writes every row in order with the appended columns, round trip', async () => {
    // Quoted cells, a formula cell, blank lines and CRLF in one source.
    const text = 'a,b,c\r\n1,"x, y",-2\r\n\r\n2,=2+3,+4\r\n3,"multi\nline",5\r\n4, spaced ,6';
    const source = join(dir, 'scored-src.csv');
    await writeFile(source, text);
    const table = await parseCsvFile(source);
    const out = join(dir, 'results.csv');
    await writeScoredDataset({
      sourcePath: source,
      table,
      outPath: out,
      scores: Float64Array.from([-0.3, -0.7, -0.4, NaN]),
      severity: Float64Array.from([10, 90, 20, 0]),
      isAnomaly: Uint8Array.from([0, 1, 0, 0]),
      flowFindings: new Map([
        [1, finding(1, 'ddos', 'INC-002')],
        [2, finding(2, 'beaconing', null)],
      ]),
    });
    const rows = tokenizeCsv(await readFile(out));
    assert.deepEqual(rows, [
      ['a', 'b', 'c', 'anomaly_score', 'severity', 'is_anomaly', 'attack_type', 'incident_id'],
      ['1', 'x, y', '-2', '-0.300000', '10.00', '0', 'normal', ''],
      ['2', "'=2+3", '+4', '-0.700000', '90.00', '1', 'ddos', 'INC-002'],
      ['3', 'multi\nline', '5', '-0.400000', '20.00', '0', 'beaconing', ''],
      ['4', 'spaced', '6', '', '0.00', '0', 'normal', ''],
    ]);
    const back = await parseCsvFile(out);
    assert.equal(back.rowCount, 4);
    assert.deepEqual(Array.from(back.lineNumbers), [2, 3, 4, 6]);
  });

  it('leaves nothing behind when the source does not match the table', async () => {
    const source = join(dir, 'changing.csv');
    await writeFile(source, 'a\n1\n2\n3\n');
    const table = await parseCsvFile(source);
    await writeFile(source, 'a\n1\n');
    const out = join(dir, 'never.csv');
    await assert.rejects(
      writeScoredDataset({ sourcePath: source, table, outPath: out, scores: new Float64Array(3), severity: new Float64Array(3), isAnomaly: new Uint8Array(3) }),
      /no longer matches/,
    );
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(`${out}.tmp`), false);
  });

  it('keeps row count and order on a larger file written in several flushes', async () => {
    const n = 60000;
    const lines = ['id,label,v'];
    for (let i = 0; i < n; i++) lines.push(`${i},${i % 7 === 0 ? '"q,uoted"' : 'plain'},${(i * 0.37).toFixed(3)}`);
    const source = join(dir, 'big.csv');
    await writeFile(source, `${lines.join('\n')}\n`);
    const table = await parseCsvFile(source, { chunkBytes: 65536 });
    const scores = Float64Array.from({ length: n }, (_, i) => -i / n);
    const out = join(dir, 'big-results.csv');
    await writeScoredDataset({ sourcePath: source, table, outPath: out, scores, severity: new Float64Array(n), isAnomaly: new Uint8Array(n) });
    const back = await parseCsvFile(out);
    assert.equal(back.rowCount, n);
    const id = back.columns[0];
    const score = back.columns[3];
    assert.equal(id.kind, 'numeric');
    assert.equal(score.kind, 'numeric');
    if (id.kind === 'numeric' && score.kind === 'numeric') {
      for (let i = 0; i < n; i += 997) {
        assert.equal(id.values[i], i);
        assert.equal(score.values[i], Number((-i / n).toFixed(6)));
      }
    }
  });
});
