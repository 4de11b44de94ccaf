import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildMitigation } from '../../src/findings/index.ts';
import type { MitigationScope } from '../../src/findings/index.ts';

// The whole rule text of each kind of rule set, written out: the builders share their frame
// (table, chains, families, iptables inserts with expiry and undo), and none of it may change.

const BASE: Omit<MitigationScope, 'id' | 'type' | 'expiryMinutes'> = { attackers: [], victims: [], remote: [], ports: [], protocols: [], now: Date.parse('2024-03-05T00:00:00Z') };

/** A mitigation's rule text, one command a line. */
function rules(scope: MitigationScope) {
  const m = buildMitigation(scope);
  return { nftables: m.nftables?.split('\n'), iptables: m.iptables?.split('\n'), undo: m.undo, verify: m.verify };
}

test('when a mitigation is built for an IPv4 and an IPv6 brute-force source on one port, then both are blocked inbound on that port', () => {
  assert.deepEqual(rules({ ...BASE, id: 'INC-001', type: 'brute_force', attackers: ['203.0.113.9', '2001:db8::5'], victims: ['10.0.0.22'], ports: [22], protocols: ['TCP'], expiryMinutes: 30 }), {
    nftables: [
      'nft add table inet flowsentry',
      "nft add chain inet flowsentry input '{ type filter hook input priority -10; policy accept; }'",
      "nft add chain inet flowsentry forward '{ type filter hook forward priority -10; policy accept; }'",
      "nft add set inet flowsentry inc001_src4 '{ type ipv4_addr; flags timeout; }'",
      "nft add element inet flowsentry inc001_src4 '{ 203.0.113.9 timeout 30m }'",
      'nft add rule inet flowsentry input ip saddr @inc001_src4 tcp dport { 22 } counter drop comment "INC-001"',
      'nft add rule inet flowsentry forward ip saddr @inc001_src4 tcp dport { 22 } counter drop comment "INC-001"',
      "nft add set inet flowsentry inc001_src6 '{ type ipv6_addr; flags timeout; }'",
      "nft add element inet flowsentry inc001_src6 '{ 2001:db8::5 timeout 30m }'",
      'nft add rule inet flowsentry input ip6 saddr @inc001_src6 tcp dport { 22 } counter drop comment "INC-001"',
      'nft add rule inet flowsentry forward ip6 saddr @inc001_src6 tcp dport { 22 } counter drop comment "INC-001"',
    ],
    iptables: [
      'iptables -I INPUT -s 203.0.113.9 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      'echo \'iptables -D INPUT -s 203.0.113.9 -p tcp -m multiport --dports 22 -m comment --comment \\"INC-001 expires 2024-03-05T00:30:00Z\\" -j DROP\' | at now + 30 minutes',
      'iptables -I FORWARD -s 203.0.113.9 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      'echo \'iptables -D FORWARD -s 203.0.113.9 -p tcp -m multiport --dports 22 -m comment --comment \\"INC-001 expires 2024-03-05T00:30:00Z\\" -j DROP\' | at now + 30 minutes',
      'ip6tables -I INPUT -s 2001:db8::5 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      'echo \'ip6tables -D INPUT -s 2001:db8::5 -p tcp -m multiport --dports 22 -m comment --comment \\"INC-001 expires 2024-03-05T00:30:00Z\\" -j DROP\' | at now + 30 minutes',
      'ip6tables -I FORWARD -s 2001:db8::5 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      'echo \'ip6tables -D FORWARD -s 2001:db8::5 -p tcp -m multiport --dports 22 -m comment --comment \\"INC-001 expires 2024-03-05T00:30:00Z\\" -j DROP\' | at now + 30 minutes',
    ],
    undo: [
      'iptables -D INPUT -s 203.0.113.9 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      'iptables -D FORWARD -s 203.0.113.9 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      "nft delete element inet flowsentry inc001_src4 '{ 203.0.113.9 }'",
      'ip6tables -D INPUT -s 2001:db8::5 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      'ip6tables -D FORWARD -s 2001:db8::5 -p tcp -m multiport --dports 22 -m comment --comment "INC-001 expires 2024-03-05T00:30:00Z" -j DROP',
      "nft delete element inet flowsentry inc001_src6 '{ 2001:db8::5 }'",
      'nft delete table inet flowsentry   # removes every FlowSentry rule at once',
    ],
    verify: [
      'conntrack -L -s 203.0.113.9',
      'nft list set inet flowsentry inc001_src4',
      "iptables -L INPUT -v -n --line-numbers | grep 'INC-001'",
      'conntrack -L -s 2001:db8::5',
      'nft list set inet flowsentry inc001_src6',
      "ip6tables -L INPUT -v -n --line-numbers | grep 'INC-001'",
      "nft list chain inet flowsentry input   # the counters of the 'INC-001' rules must rise while the offender retries",
    ],
  });
});

test('when a mitigation is built for a flood on an IPv4 and an IPv6 victim, then new connections per source are rate-limited for both', () => {
  assert.deepEqual(rules({ ...BASE, id: 'INC-002', type: 'ddos', victims: ['10.0.0.20', 'fd00::20'], ports: [80, 443], protocols: ['TCP', 'UDP'], expiryMinutes: 60 }), {
    nftables: [
      'nft add table inet flowsentry',
      "nft add chain inet flowsentry input '{ type filter hook input priority -10; policy accept; }'",
      "nft add chain inet flowsentry forward '{ type filter hook forward priority -10; policy accept; }'",
      "nft add set inet flowsentry inc002_rate4 '{ type ipv4_addr; flags dynamic,timeout; timeout 60m; }'",
      'nft add rule inet flowsentry input ip daddr { 10.0.0.20 } tcp dport { 80, 443 } ct state new update @inc002_rate4 \'{ ip saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      'nft add rule inet flowsentry forward ip daddr { 10.0.0.20 } tcp dport { 80, 443 } ct state new update @inc002_rate4 \'{ ip saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      'nft add rule inet flowsentry input ip daddr { 10.0.0.20 } udp dport { 80, 443 } ct state new update @inc002_rate4 \'{ ip saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      'nft add rule inet flowsentry forward ip daddr { 10.0.0.20 } udp dport { 80, 443 } ct state new update @inc002_rate4 \'{ ip saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      "nft add set inet flowsentry inc002_rate6 '{ type ipv6_addr; flags dynamic,timeout; timeout 60m; }'",
      'nft add rule inet flowsentry input ip6 daddr { fd00::20 } tcp dport { 80, 443 } ct state new update @inc002_rate6 \'{ ip6 saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      'nft add rule inet flowsentry forward ip6 daddr { fd00::20 } tcp dport { 80, 443 } ct state new update @inc002_rate6 \'{ ip6 saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      'nft add rule inet flowsentry input ip6 daddr { fd00::20 } udp dport { 80, 443 } ct state new update @inc002_rate6 \'{ ip6 saddr limit rate over 50/second }\' counter drop comment "INC-002"',
      'nft add rule inet flowsentry forward ip6 daddr { fd00::20 } udp dport { 80, 443 } ct state new update @inc002_rate6 \'{ ip6 saddr limit rate over 50/second }\' counter drop comment "INC-002"',
    ],
    iptables: [
      'iptables -I INPUT -d 10.0.0.20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'iptables -D INPUT -d 10.0.0.20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'iptables -I FORWARD -d 10.0.0.20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'iptables -D FORWARD -d 10.0.0.20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'iptables -I INPUT -d 10.0.0.20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'iptables -D INPUT -d 10.0.0.20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'iptables -I FORWARD -d 10.0.0.20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'iptables -D FORWARD -d 10.0.0.20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'ip6tables -I INPUT -d fd00::20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'ip6tables -D INPUT -d fd00::20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'ip6tables -I FORWARD -d fd00::20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'ip6tables -D FORWARD -d fd00::20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'ip6tables -I INPUT -d fd00::20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'ip6tables -D INPUT -d fd00::20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
      'ip6tables -I FORWARD -d fd00::20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'echo \'ip6tables -D FORWARD -d fd00::20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment \\"INC-002 expires 2024-03-05T01:00:00Z\\" -j DROP\' | at now + 60 minutes',
    ],
    undo: [
      'iptables -D INPUT -d 10.0.0.20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'iptables -D FORWARD -d 10.0.0.20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'iptables -D INPUT -d 10.0.0.20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'iptables -D FORWARD -d 10.0.0.20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_4 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'nft delete table inet flowsentry   # removes every FlowSentry rule at once',
      'ip6tables -D INPUT -d fd00::20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'ip6tables -D FORWARD -d fd00::20 -p tcp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'ip6tables -D INPUT -d fd00::20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
      'ip6tables -D FORWARD -d fd00::20 -p udp -m multiport --dports 80,443 -m conntrack --ctstate NEW -m hashlimit --hashlimit-above 50/sec --hashlimit-mode srcip --hashlimit-name inc002_6 -m comment --comment "INC-002 expires 2024-03-05T01:00:00Z" -j DROP',
    ],
    verify: [
      'conntrack -L -d 10.0.0.20 | wc -l   # falls once the limit bites',
      'nft list set inet flowsentry inc002_rate4   # sources currently rate-limited',
      'cat /proc/net/ipt_hashlimit/inc002_4',
      'conntrack -L -d fd00::20 | wc -l   # falls once the limit bites',
      'nft list set inet flowsentry inc002_rate6   # sources currently rate-limited',
      'cat /proc/net/ipt_hashlimit/inc002_6',
    ],
  });
});

test('when a mitigation is built for an exfiltration, then the receiving address is blocked outbound on every port', () => {
  assert.deepEqual(rules({ ...BASE, id: 'INC-003', type: 'data_exfiltration', victims: ['10.0.0.5'], remote: ['198.51.100.7'], ports: [443], protocols: ['TCP'], expiryMinutes: 45 }), {
    nftables: [
      'nft add table inet flowsentry',
      "nft add chain inet flowsentry output '{ type filter hook output priority -10; policy accept; }'",
      "nft add chain inet flowsentry forward '{ type filter hook forward priority -10; policy accept; }'",
      "nft add set inet flowsentry inc003_dst4 '{ type ipv4_addr; flags timeout; }'",
      "nft add element inet flowsentry inc003_dst4 '{ 198.51.100.7 timeout 45m }'",
      'nft add rule inet flowsentry output ip daddr @inc003_dst4 counter drop comment "INC-003"',
      'nft add rule inet flowsentry forward ip daddr @inc003_dst4 counter drop comment "INC-003"',
    ],
    iptables: [
      'iptables -I OUTPUT -d 198.51.100.7 -m comment --comment "INC-003 expires 2024-03-05T00:45:00Z" -j DROP',
      'echo \'iptables -D OUTPUT -d 198.51.100.7 -m comment --comment \\"INC-003 expires 2024-03-05T00:45:00Z\\" -j DROP\' | at now + 45 minutes',
      'iptables -I FORWARD -d 198.51.100.7 -m comment --comment "INC-003 expires 2024-03-05T00:45:00Z" -j DROP',
      'echo \'iptables -D FORWARD -d 198.51.100.7 -m comment --comment \\"INC-003 expires 2024-03-05T00:45:00Z\\" -j DROP\' | at now + 45 minutes',
    ],
    undo: [
      'iptables -D OUTPUT -d 198.51.100.7 -m comment --comment "INC-003 expires 2024-03-05T00:45:00Z" -j DROP',
      'iptables -D FORWARD -d 198.51.100.7 -m comment --comment "INC-003 expires 2024-03-05T00:45:00Z" -j DROP',
      "nft delete element inet flowsentry inc003_dst4 '{ 198.51.100.7 }'",
      'nft delete table inet flowsentry   # removes every FlowSentry rule at once',
    ],
    verify: [
      'conntrack -L -d 198.51.100.7',
      'nft list set inet flowsentry inc003_dst4',
      "iptables -L OUTPUT -v -n --line-numbers | grep 'INC-003'",
      "nft list chain inet flowsentry output   # the counters of the 'INC-003' rules must rise while the offender retries",
    ],
  });
});
