import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFindings } from '../../src/findings/index.ts';
import { buildContext } from '../../src/findings/context.ts';
import type { Explanation } from '../../src/detection/types.ts';
import { CANONICAL, column, parseCsvBuffer } from '../../src/ingest/index.ts';

const NOW = Date.parse('2024-03-05T00:00:00Z');

/** 600 flows with the canonical columns, the header written by `name` (identity = canonical names). */
function flows(name: (canonical: string) => string): string {
  const header = [CANONICAL.timestamp, CANONICAL.sourceIp, CANONICAL.destinationIp, CANONICAL.sourcePort, CANONICAL.destinationPort, CANONICAL.protocol, CANONICAL.bytes, CANONICAL.packets, CANONICAL.duration];
  const lines = [header.map(name).join(',')];
  for (let i = 0; i < 600; i++) {
    const scan = i >= 500; // one host probing 100 ports of another
    lines.push([
      new Date(NOW + i * 1000).toISOString(),
      scan ? '203.0.113.66' : `10.0.0.${1 + (i % 40)}`,
      scan ? '10.0.0.200' : `52.1.2.${1 + (i % 9)}`,
      40000 + i,
      scan ? 1000 + i : 443,
      'TCP',
      scan ? 60 : 2000 + ((i * 37) % 900),
      scan ? 1 : 6,
      scan ? 0.001 : 1.2,
    ].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** What the findings context found of each canonical column. */
function seen(csv: string) {
  const ctx = buildContext(parseCsvBuffer(csv));
  return {
    [CANONICAL.sourceIp]: ctx.src !== null,
    [CANONICAL.destinationIp]: ctx.dst !== null,
    [CANONICAL.sourcePort]: ctx.sport !== null,
    [CANONICAL.destinationPort]: ctx.dport !== null,
    [CANONICAL.protocol]: ctx.protocolCode !== null,
    [CANONICAL.bytes]: ctx.metrics.bytes !== null,
    [CANONICAL.packets]: ctx.metrics.packets !== null,
    [CANONICAL.duration]: ctx.metrics.duration !== null,
  };
}

/** What the anomaly table (ingest's `column`, as the pipeline looks its columns up) finds of the same columns. */
function shown(csv: string) {
  const table = parseCsvBuffer(csv);
  const names = [CANONICAL.sourceIp, CANONICAL.destinationIp, CANONICAL.sourcePort, CANONICAL.destinationPort, CANONICAL.protocol, CANONICAL.bytes, CANONICAL.packets, CANONICAL.duration];
  return Object.fromEntries(names.map((n) => [n, column(table, n) !== undefined]));
}

test('when the header has the canonical names, then findings and the anomaly table both use every column', () => {
  const csv = flows((c) => c);
  assert.deepEqual(seen(csv), shown(csv));
  assert.ok(Object.values(seen(csv)).every(Boolean));
});

test('when the header names differ in case, then findings ignore those columns as the anomaly table does', () => {
  const upper = (c: string) => c.replace(/(^|_)([a-z])/g, (_, sep: string, ch: string) => sep + ch.toUpperCase()); // Source_IP style
  for (const name of [upper, (c: string) => c.toUpperCase()]) {
    const csv = flows(name);
    assert.ok(csv.startsWith(name === upper ? 'Timestamp,Source_Ip,Destination_Ip,' : 'TIMESTAMP,SOURCE_IP,'));
    assert.deepEqual(seen(csv), shown(csv));
    assert.ok(Object.values(seen(csv)).every((v) => v === false), JSON.stringify(seen(csv)));
  }
});

test('when only the address columns differ in case, then incidents name no address, like the anomaly table', () => {
  const canonical = flows((c) => c);
  const renamed = canonical.replace(`${CANONICAL.sourceIp},${CANONICAL.destinationIp}`, 'Source_IP,Destination_IP');
  const run = (csv: string) => {
    const table = parseCsvBuffer(csv);
    const n = table.rowCount;
    const isAnomaly = new Uint8Array(n).fill(1, 500);
    const severity = new Float64Array(n).map((_, i) => (isAnomaly[i] ? 80 : 20));
    return analyzeFindings({ table, features: [], scores: new Float64Array(n), isAnomaly, severity, explanations: new Map<number, Explanation>() }, { now: NOW });
  };
  const named = run(canonical).incidents.find((i) => i.type === 'port_scan');
  assert.ok(named);
  assert.deepEqual(named.sourceIps, ['203.0.113.66']);
  const unnamed = run(renamed);
  assert.ok(unnamed.incidents.length > 0);
  for (const inc of unnamed.incidents) {
    assert.deepEqual(inc.sourceIps, [], inc.title);
    assert.deepEqual(inc.destinationIps, [], inc.title);
  }
  assert.equal(column(parseCsvBuffer(renamed), CANONICAL.sourceIp), undefined);
});
