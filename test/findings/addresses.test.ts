import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeFindings, buildMitigation, isPrivateAddress } from '../../src/findings/index.ts';
import { addressKind, buildContext } from '../../src/findings/context.ts';
import { addressKindOf, isInternal } from '../../src/findings/rules.ts';
import type { Explanation } from '../../src/detection/types.ts';
import { parseCsvBuffer } from '../../src/ingest/index.ts';

const NOW = Date.parse('2024-03-05T00:00:00Z');

/** [address, expected addressKind] for the first and last address of each range and just outside it. */
const KINDS: readonly (readonly [string, ReturnType<typeof addressKind>])[] = [
  // RFC 1918
  ['10.0.0.0', 'internal'],
  ['10.255.255.255', 'internal'],
  ['9.255.255.255', 'external'],
  ['11.0.0.0', 'external'],
  ['172.16.0.0', 'internal'],
  ['172.31.255.255', 'internal'],
  ['172.15.255.255', 'external'],
  ['172.32.0.0', 'external'],
  ['192.168.0.0', 'internal'],
  ['192.168.255.255', 'internal'],
  ['192.167.255.255', 'external'],
  ['192.169.0.0', 'external'],
  // CGNAT 100.64/10
  ['100.64.0.0', 'internal'],
  ['100.127.255.255', 'internal'],
  ['100.63.255.255', 'external'],
  ['100.128.0.0', 'external'],
  // loopback, link-local
  ['127.0.0.1', 'internal'],
  ['127.255.255.255', 'internal'],
  ['128.0.0.0', 'external'],
  ['169.254.0.0', 'internal'],
  ['169.254.255.255', 'internal'],
  ['169.253.255.255', 'external'],
  ['169.255.0.0', 'external'],
  // unspecified / "this network", multicast, limited broadcast
  ['0.0.0.0', 'not-a-host'],
  ['0.255.255.255', 'not-a-host'],
  ['1.0.0.0', 'external'],
  ['224.0.0.0', 'not-a-host'],
  ['224.0.0.251', 'not-a-host'],
  ['239.255.255.255', 'not-a-host'],
  ['223.255.255.255', 'external'],
  ['240.0.0.0', 'external'],
  ['255.255.255.255', 'not-a-host'],
  ['255.255.255.254', 'external'],
  // public
  ['8.8.8.8', 'external'],
  ['203.0.113.9', 'external'],
  // IPv6: loopback, unspecified, link-local, site-local, unique local, multicast
  ['::1', 'internal'],
  ['::2', 'external'],
  ['::', 'not-a-host'],
  ['0:0:0:0:0:0:0:0', 'not-a-host'],
  ['fe80::1', 'internal'],
  ['febf:ffff::1', 'internal'],
  ['fe7f::1', 'external'],
  ['fec0::1', 'internal'],
  ['feff::1', 'internal'],
  ['fc00::', 'internal'],
  ['fdff:ffff::1', 'internal'],
  ['FD12:3456::1', 'internal'],
  ['fbff::1', 'external'],
  ['fe00::1', 'external'],
  ['ff00::', 'not-a-host'],
  ['ff02::1', 'not-a-host'],
  ['ff0e::1:3', 'not-a-host'],
  ['2001:db8::5', 'external'],
  ['2606:4700::1111', 'external'],
  // an IPv6 zone does not change the kind
  ['fe80::1%eth0', 'internal'],
  ['ff02::fb%2', 'not-a-host'],
  // IPv4-mapped IPv6 takes the kind of its IPv4 address, dotted or in hex
  ['::ffff:10.1.2.3', 'internal'],
  ['::FFFF:192.168.1.1', 'internal'],
  ['0:0:0:0:0:ffff:172.16.0.1', 'internal'],
  ['::ffff:a01:203', 'internal'],
  ['::ffff:100.64.0.1', 'internal'],
  ['::ffff:127.0.0.1', 'internal'],
  ['::ffff:8.8.8.8', 'external'],
  ['::ffff:224.0.0.251', 'not-a-host'],
  ['::ffff:255.255.255.255', 'not-a-host'],
  ['::ffff:0.0.0.0', 'not-a-host'],
];

test('when an address is classified, then each range gives its kind, edges included', () => {
  for (const [a, kind] of KINDS) assert.equal(addressKind(a), kind, a);
});

test('when isPrivateAddress is asked, then only internal hosts are private, other IPs are not, and text that is no IP is null', () => {
  for (const [a, kind] of KINDS) assert.equal(isPrivateAddress(a), kind === 'internal', a);
  // Multicast is no internal host, in either family or in mapped form.
  assert.equal(isPrivateAddress('ff02::1'), false);
  assert.equal(isPrivateAddress('239.1.1.1'), false);
  assert.equal(isPrivateAddress('::ffff:10.1.2.3'), true);
  for (const a of ['10.1.2', '1.2.3.4.5', 'fe80::zz', '::ffff:999.1.1.1', '256.1.1.1', '010.1.2.3', ' 10.1.2.3', '10.1.2.3 ', '1.2.3.4%eth0', 'fe80::1%', 'host.example', '', 'fc', 'ff', ':::']) {
    assert.equal(isPrivateAddress(a), null, JSON.stringify(a));
    assert.equal(addressKind(a), null, JSON.stringify(a));
  }
});

/** A table of flows `source,destination,bytes` plus a time, port and protocol per row. */
function flowTable(flows: readonly (readonly [string, string, number])[]) {
  const lines = flows.map(([s, d, b], i) => `${new Date(NOW + i * 10_000).toISOString()},${s},${d},${40000 + (i % 1000)},443,TCP,${b},${Math.max(1, Math.round(b / 1400))},${b > 1e6 ? 600 : 1.5}`);
  return parseCsvBuffer(`timestamp,source_ip,destination_ip,source_port,destination_port,protocol,bytes_transferred,packet_count,connection_duration\n${lines.join('\n')}\n`);
}

test('when a context is built, then each address code has its kind and multicast counts as inside, never external', () => {
  const ctx = buildContext(flowTable([
    ['10.0.0.5', '239.1.1.1', 100],
    ['::ffff:10.0.0.6', '8.8.8.8', 100],
    ['0.0.0.0', '255.255.255.255', 100],
    ['ff02::1', 'not-an-ip', 100],
  ]));
  const kinds = Object.fromEntries(ctx.addresses.map((a, code) => [a, [addressKindOf(ctx, code), isInternal(ctx, code)]]));
  assert.deepEqual(kinds, {
    '10.0.0.5': ['internal', true],
    '::ffff:10.0.0.6': ['internal', true],
    '0.0.0.0': ['not-a-host', true],
    'ff02::1': ['not-a-host', true],
    '239.1.1.1': ['not-a-host', true],
    '8.8.8.8': ['external', false],
    '255.255.255.255': ['not-a-host', true],
    'not-an-ip': [null, null],
  });
});

/** Normal traffic from internal clients to public servers, then 12 large transfers from 10.0.0.5 to `receiver`, flagged. */
function bulkTransferTo(receiver: string) {
  const flows: [string, string, number][] = [];
  for (let i = 0; i < 3000; i++) flows.push([`10.0.1.${1 + (i % 200)}`, `52.1.${i % 7}.${1 + (i % 50)}`, 800 + ((i * 7919) % 4000)]);
  for (let i = 0; i < 12; i++) flows.push(['10.0.0.5', receiver, 4e8 + i * 1e6]);
  const table = flowTable(flows);
  const n = table.rowCount;
  const isAnomaly = new Uint8Array(n);
  isAnomaly.fill(1, n - 12);
  const severity = new Float64Array(n).map((_, i) => (isAnomaly[i] ? 80 : 20));
  return analyzeFindings({ table, features: [], scores: new Float64Array(n), isAnomaly, severity, explanations: new Map<number, Explanation>() }, { now: NOW });
}

test('when an internal host sends large flows to an external host, then it is exfiltration and the receiver is blocked', () => {
  const f = bulkTransferTo('198.51.100.7');
  const inc = f.incidents.find((i) => i.type === 'data_exfiltration');
  assert.ok(inc, f.incidents.map((i) => i.type).join());
  assert.match(inc.mitigation.nftables ?? '', /ip daddr @inc\d+_dst4/);
  assert.match(inc.mitigation.nftables ?? '', /198\.51\.100\.7 timeout/);
});

for (const group of ['239.1.1.1', '::ffff:239.1.1.1', 'ff0e::1:3', '255.255.255.255']) {
  test(`when an internal host streams large flows to ${group}, then it is no exfiltration and no rule names the group`, () => {
    const f = bulkTransferTo(group);
    assert.ok(f.incidents.length > 0);
    for (const inc of f.incidents) {
      assert.notEqual(inc.type, 'data_exfiltration', inc.title);
      const m = inc.mitigation;
      const text = [m.summary, ...m.steps, m.nftables ?? '', m.iptables ?? '', ...m.undo, ...m.verify].join('\n');
      assert.ok(!text.includes(group), text);
    }
  });
}

test('when a mitigation scope holds multicast, broadcast or unspecified addresses, then no rule or text names them', () => {
  const base = { victims: [], remote: [], ports: [22], protocols: ['TCP'], expiryMinutes: 30, now: NOW } as const;
  // Only such addresses: nothing to block, the generic advice.
  const scan = buildMitigation({ ...base, id: 'INC-001', type: 'port_scan', attackers: ['0.0.0.0', 'ff02::1', '::ffff:224.0.0.251'] });
  assert.equal(scan.generic, true);
  assert.equal(scan.nftables, null);
  const flood = buildMitigation({ ...base, id: 'INC-002', type: 'ddos', attackers: ['203.0.113.1'], victims: ['255.255.255.255', '224.0.0.1'] });
  assert.equal(flood.generic, true);
  // Mixed with hosts: the hosts only.
  const beacon = buildMitigation({ ...base, id: 'INC-003', type: 'beaconing', attackers: [], victims: ['10.0.0.5', '0.0.0.0'], remote: ['239.1.1.1', '203.0.113.9', 'ff05::2'] });
  assert.equal(beacon.generic, false);
  const text = [beacon.summary, ...beacon.steps, beacon.nftables, beacon.iptables, ...beacon.undo, ...beacon.verify].join('\n');
  assert.match(text, /nft add element inet flowsentry inc003_dst4 '\{ 203\.0\.113\.9 timeout 30m \}'/);
  assert.match(beacon.summary, /isolate 10\.0\.0\.5:/);
  for (const a of ['239.1.1.1', 'ff05::2', '0.0.0.0']) assert.ok(!text.includes(a), a);
  assert.ok(!text.includes('inc003_dst6'));
});
