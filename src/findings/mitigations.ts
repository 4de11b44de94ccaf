/**
 * Mitigations per incident: what to do first, and ready-to-use nftables / iptables artifacts scoped to
 * the evidence (exact addresses and ports), with an expiry, the undo commands and how to verify.
 * Addresses are validated (canonical IPv4 / IPv6 text only) and ports are integers before they reach
 * a rule: nothing from the data is pasted into a command unchecked. Rules name hosts only: a
 * multicast, broadcast or unspecified address (see addressKind) is left out of every rule and text,
 * whichever role the incident gave it.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { addressKind } from './context.ts';
import type { AttackType, Mitigation } from './types.ts';

export interface MitigationScope {
  readonly id: string; // 'INC-001'
  readonly type: AttackType;
  readonly attackers: readonly string[]; // addresses to block (sources of the attack)
  readonly victims: readonly string[]; // addresses under attack / internal hosts involved
  readonly remote: readonly string[]; // external destinations (C2, drop site) to block outbound
  readonly ports: readonly number[];
  readonly protocols: readonly string[];
  readonly expiryMinutes: number;
  readonly now: number; // epoch ms, for the expiry comment
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Canonical IPv4 dotted quad or IPv6 text (hex, colons, optional embedded v4); anything else → null. */
export function safeAddress(a: string): { address: string; family: 4 | 6 } | null {
  const t = a.trim();
  if (IPV4.test(t) && isIPv4(t)) return { address: t, family: 4 };
  if (/^[0-9A-Fa-f:.]+$/.test(t) && t.length <= 45 && isIPv6(t)) return { address: t.toLowerCase(), family: 6 };
  return null;
}

export function safePort(p: number): number | null {
  return Number.isInteger(p) && p >= 0 && p <= 65535 ? p : null;
}

/** D3FEND technique ids used below (https://d3fend.mitre.org/). */
export const D3FEND = {
  inboundFiltering: 'D3-ITF', // Inbound Traffic Filtering
  outboundFiltering: 'D3-OTF', // Outbound Traffic Filtering
  networkFiltering: 'D3-NTF', // Network Traffic Filtering
  connectionAttemptAnalysis: 'D3-CAA', // Connection Attempt Analysis
  networkTrafficAnalysis: 'D3-NTA', // Network Traffic Analysis
  accountLocking: 'D3-AL', // Account Locking
  mfa: 'D3-MFA', // Multi-factor Authentication
  dnsDenylisting: 'D3-DNSDL', // DNS Denylisting
  networkIsolation: 'D3-NI', // Network Isolation
  protocolMetadataAnomaly: 'D3-PMAD', // Protocol Metadata Anomaly Detection
} as const;

const TABLE = 'flowsentry';

interface Split {
  readonly v4: string[];
  readonly v6: string[];
}

/** The safe host addresses of a list by family, each once (see safeAddress and addressKind). */
function split(addresses: readonly string[]): Split {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const a of addresses) {
    const s = safeAddress(a);
    // Blocking a multicast group or the broadcast address would cut a service off for every host
    // that uses it, and none of them is the offender; blocking 0.0.0.0 would stop DHCP.
    if (!s || addressKind(s.address) === 'not-a-host') continue;
    (s.family === 4 ? v4 : v6).push(s.address);
  }
  return { v4: [...new Set(v4)], v6: [...new Set(v6)] };
}

const slug = (id: string) => id.toLowerCase().replace(/[^a-z0-9]/g, '');

function expiryText(scope: MitigationScope): string {
  return new Date(scope.now + scope.expiryMinutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * iptables' multiport match takes at most 15 ports. Above that a rule matches every port of the
 * address (both builders, and the nft rules too, so the two artifacts always do the same thing).
 */
const MAX_MULTIPORT = 15;

/** TCP and UDP among the scope's protocols, in lower case: the only ones a port match applies to. */
function portProtocols(scope: MitigationScope): string[] {
  return scope.protocols.map((p) => p.toLowerCase()).filter((p) => p === 'tcp' || p === 'udp');
}

/** A rule set as the mitigations give it: nft and iptables scripts, and undo and verify commands. */
interface Rules {
  readonly nft: string;
  readonly ipt: string;
  readonly undo: string[];
  readonly verify: string[];
}

/** What a builder writes for one address family with addresses (see familyRules). */
interface FamilyPart {
  readonly family: 4 | 6;
  readonly addresses: readonly string[];
  /** nft's keyword for the family ('ip' or 'ip6') and its iptables binary. */
  readonly ipKw: 'ip' | 'ip6';
  readonly bin: 'iptables' | 'ip6tables';
  readonly addrType: 'ipv4_addr' | 'ipv6_addr';
  /** The incident id as nft and iptables names take it ('INC-001' → 'inc001'). */
  readonly name: string;
  readonly nft: string[];
  readonly undo: string[];
  readonly verify: string[];
  /**
   * Inserts the iptables DROP rule `match` (the part before its comment) in every chain, commented
   * with the incident and its expiry, has `at` delete it when it expires, and adds that delete to
   * the undo commands.
   */
  drop(match: string): void;
}

/**
 * What blockRules and rateLimitRules share: FlowSentry's nft table with `chains` hooked (priority
 * -10, accepting by default), then per family with addresses (IPv4, then IPv6) the builder's `part`.
 */
function familyRules(scope: MitigationScope, chains: readonly string[], addrs: Split, part: (p: FamilyPart) => void): Rules {
  const minutes = scope.expiryMinutes;
  const comment = `-m comment --comment "${scope.id} expires ${expiryText(scope)}" -j DROP`;
  const nft: string[] = [
    `nft add table inet ${TABLE}`,
    ...chains.map((c) => `nft add chain inet ${TABLE} ${c} '{ type filter hook ${c} priority -10; policy accept; }'`),
  ];
  const ipt: string[] = [];
  const undo: string[] = [];
  const verify: string[] = [];
  for (const [family, addresses] of [
    [4, addrs.v4],
    [6, addrs.v6],
  ] as const) {
    if (addresses.length === 0) continue;
    const bin = family === 4 ? 'iptables' : 'ip6tables';
    part({
      family,
      addresses,
      ipKw: family === 4 ? 'ip' : 'ip6',
      bin,
      addrType: family === 4 ? 'ipv4_addr' : 'ipv6_addr',
      name: slug(scope.id),
      nft,
      undo,
      verify,
      drop(match) {
        const spec = `${match} ${comment}`;
        for (const c of chains.map((x) => x.toUpperCase())) {
          ipt.push(`${bin} -I ${c} ${spec}`);
          ipt.push(`echo '${bin} -D ${c} ${spec.replace(/"/g, '\\"')}' | at now + ${minutes} minutes`);
          undo.push(`${bin} -D ${c} ${spec}`);
        }
      },
    });
  }
  return { nft: nft.join('\n'), ipt: ipt.join('\n'), undo, verify };
}

/** Block `addrs` by source (inbound) or destination (outbound) with an nft set whose elements time out. */
function blockRules(scope: MitigationScope, addrs: Split, direction: 'saddr' | 'daddr', ports: readonly number[]): Rules {
  const hook = direction === 'saddr' ? 'input' : 'output';
  const chains = direction === 'saddr' ? ['input', 'forward'] : ['output', 'forward'];
  const flag = direction === 'saddr' ? '-s' : '-d';
  const portList = ports.map(safePort).filter((p): p is number => p !== null);
  const portMatch = (proto: string) => (portList.length > 0 && portList.length <= MAX_MULTIPORT ? ` ${proto} dport { ${portList.join(', ')} }` : '');
  const protos = portProtocols(scope);
  const l4: (string | null)[] = portList.length > 0 && portList.length <= MAX_MULTIPORT && protos.length > 0 ? protos : [null];
  const rules = familyRules(scope, chains, addrs, ({ family, addresses, ipKw, bin, addrType, name, nft, undo, verify, drop }) => {
    const set = `${name}_${direction === 'saddr' ? 'src' : 'dst'}${family}`;
    nft.push(`nft add set inet ${TABLE} ${set} '{ type ${addrType}; flags timeout; }'`);
    nft.push(`nft add element inet ${TABLE} ${set} '{ ${addresses.map((a) => `${a} timeout ${scope.expiryMinutes}m`).join(', ')} }'`);
    for (const c of chains) {
      for (const proto of l4) {
        nft.push(`nft add rule inet ${TABLE} ${c} ${ipKw} ${direction} @${set}${proto ? portMatch(proto) : ''} counter drop comment "${scope.id}"`);
      }
    }
    for (const a of addresses) {
      for (const proto of l4) drop(`${flag} ${a}${proto ? ` -p ${proto} -m multiport --dports ${portList.join(',')}` : ''}`);
      verify.push(`conntrack -L ${flag} ${a}`);
    }
    undo.push(`nft delete element inet ${TABLE} ${set} '{ ${addresses.join(', ')} }'`);
    verify.push(`nft list set inet ${TABLE} ${set}`);
    verify.push(`${bin} -L ${chains[0].toUpperCase()} -v -n --line-numbers | grep '${scope.id}'`);
  });
  rules.verify.push(`nft list chain inet ${TABLE} ${hook}   # the counters of the '${scope.id}' rules must rise while the offender retries`);
  rules.undo.push(`nft delete table inet ${TABLE}   # removes every FlowSentry rule at once`);
  return rules;
}

/** Per-source rate limit of new connections to `victims` on `ports` (floods from many sources). */
function rateLimitRules(scope: MitigationScope, victims: Split, ports: readonly number[], perSecond: number): Rules {
  const safePorts = ports.map(safePort).filter((p): p is number => p !== null && p > 0);
  const portList = safePorts.length <= MAX_MULTIPORT ? safePorts : [];
  const protos = portProtocols(scope);
  const chains = ['input', 'forward'];
  return familyRules(scope, chains, victims, ({ family, addresses, ipKw, addrType, name, nft, undo, verify, drop }) => {
    const meter = `${name}_rate${family}`;
    const hashlimit = `${name}_${family}`;
    nft.push(`nft add set inet ${TABLE} ${meter} '{ type ${addrType}; flags dynamic,timeout; timeout ${scope.expiryMinutes}m; }'`);
    for (const proto of protos.length ? protos : [null]) {
      const pm = proto && portList.length ? ` ${proto} dport { ${portList.join(', ')} }` : '';
      for (const c of chains) {
        nft.push(`nft add rule inet ${TABLE} ${c} ${ipKw} daddr { ${addresses.join(', ')} }${pm} ct state new update @${meter} '{ ${ipKw} saddr limit rate over ${perSecond}/second }' counter drop comment "${scope.id}"`);
      }
      for (const a of addresses) {
        drop(`-d ${a}${proto && portList.length ? ` -p ${proto} -m multiport --dports ${portList.join(',')}` : ''} -m conntrack --ctstate NEW -m hashlimit --hashlimit-above ${perSecond}/sec --hashlimit-mode srcip --hashlimit-name ${hashlimit}`);
      }
    }
    for (const a of addresses) verify.push(`conntrack -L -d ${a} | wc -l   # falls once the limit bites`);
    verify.push(`nft list set inet ${TABLE} ${meter}   # sources currently rate-limited`);
    verify.push(`cat /proc/net/ipt_hashlimit/${hashlimit}`);
    // Written per family; buildMitigation keeps the first of equal undo commands.
    undo.push(`nft delete table inet ${TABLE}   # removes every FlowSentry rule at once`);
  });
}

const GENERIC: Mitigation = {
  summary: 'Review the flagged flows; no specific action could be scoped from the evidence.',
  steps: [
    'Check the flows behind this incident against what the hosts are expected to do.',
    'Confirm with the owners of the hosts involved whether the traffic is legitimate.',
    'If it is not, block the addresses involved at the perimeter and investigate the hosts.',
  ],
  nftables: null,
  iptables: null,
  undo: [],
  verify: [],
  attack: [],
  d3fend: [D3FEND.networkTrafficAnalysis],
  generic: true,
};

export function buildMitigation(scope: MitigationScope): Mitigation {
  // Each case splits the lists it reads, no more: a DDoS scope carries up to 200 sources that no
  // rule names, and checking an address's kind costs a few microseconds.
  const count = (s: Split) => s.v4.length + s.v6.length;
  const expiry = `${scope.expiryMinutes} min`;
  switch (scope.type) {
    case 'port_scan': {
      const attackers = split(scope.attackers);
      if (count(attackers) === 0) break;
      const r = blockRules(scope, attackers, 'saddr', []);
      return {
        summary: `Block the scanner ${[...attackers.v4, ...attackers.v6].slice(0, 5).join(', ')} for ${expiry} and check what it found open.`,
        steps: [
          'Drop all traffic from the scanning address (rules below; they expire on their own).',
          'List which probed ports answered (flows with more than 2 packets back to the scanner): those services are exposed.',
          'If the scanner is internal, treat the host as compromised: isolate it and find the process that scanned.',
        ],
        nftables: r.nft,
        iptables: r.ipt,
        undo: r.undo,
        verify: r.verify,
        attack: ['T1046'],
        d3fend: [D3FEND.inboundFiltering, D3FEND.connectionAttemptAnalysis],
        generic: false,
      };
    }
    case 'brute_force': {
      const attackers = split(scope.attackers);
      if (count(attackers) === 0) break;
      const victims = split(scope.victims);
      const r = blockRules(scope, attackers, 'saddr', scope.ports);
      return {
        summary: `Block ${[...attackers.v4, ...attackers.v6].slice(0, 5).join(', ')} on port ${scope.ports.join(', ')} for ${expiry}, then check the authentication logs for a successful login.`,
        steps: [
          'Drop the attacking source on the targeted authentication port(s) (rules below).',
          `Search the authentication logs of ${[...victims.v4, ...victims.v6].join(', ') || 'the target'} for successful logins from the attacking address; reset any account that succeeded.`,
          'Lock or rate-limit accounts after repeated failures and require multi-factor authentication on the service.',
          'Do not expose this service to the Internet; put it behind a VPN or bastion.',
        ],
        nftables: r.nft,
        iptables: r.ipt,
        undo: r.undo,
        verify: r.verify,
        attack: ['T1110'],
        d3fend: [D3FEND.inboundFiltering, D3FEND.accountLocking, D3FEND.mfa],
        generic: false,
      };
    }
    case 'ddos': {
      const victims = split(scope.victims);
      if (count(victims) === 0) break;
      const r = rateLimitRules(scope, victims, scope.ports, 50);
      return {
        summary: `Rate-limit new connections per source to ${[...victims.v4, ...victims.v6].join(', ')} (port ${scope.ports.slice(0, 5).join(', ') || 'any'}) and alert your upstream provider if the link is saturated.`,
        steps: [
          'Apply the per-source rate limit below (new connections above 50/s per source are dropped; entries expire).',
          'If the volume exceeds your link, ask your ISP or scrubbing service for upstream filtering: a host firewall cannot absorb a saturated link.',
          'Enable SYN cookies (sysctl net.ipv4.tcp_syncookies=1) for TCP floods.',
        ],
        nftables: r.nft,
        iptables: r.ipt,
        undo: [...new Set(r.undo)],
        verify: r.verify,
        attack: ['T1498', 'T1499'],
        d3fend: [D3FEND.inboundFiltering, D3FEND.networkTrafficAnalysis],
        generic: false,
      };
    }
    case 'data_exfiltration':
    case 'beaconing': {
      const remote = split(scope.remote);
      if (count(remote) === 0) break;
      const r = blockRules(scope, remote, 'daddr', scope.type === 'beaconing' ? scope.ports : []);
      const victims = split(scope.victims);
      const hosts = [...victims.v4, ...victims.v6].join(', ') || 'the internal host';
      const exfil = scope.type === 'data_exfiltration';
      return {
        summary: exfil
          ? `Block outbound traffic to ${[...remote.v4, ...remote.v6].join(', ')} now and isolate ${hosts} for investigation.`
          : `Block the command-and-control address ${[...remote.v4, ...remote.v6].join(', ')} and isolate ${hosts}: a regular beacon means an implant.`,
        steps: exfil
          ? [
              'Drop outbound traffic to the receiving address (rules below).',
              `Isolate ${hosts} from the network (keep it powered on: memory is evidence).`,
              'Find the process that sent the data and what it read; estimate what left from the byte counts here.',
              'Check other hosts for flows to the same address.',
            ]
          : [
              'Drop outbound traffic to the beacon destination (rules below) and add its domain to the DNS denylist if known.',
              `Isolate ${hosts} and look for the implant (process making the periodic connections).`,
              'Search other hosts for the same interval and destination.',
            ],
        nftables: r.nft,
        iptables: r.ipt,
        undo: r.undo,
        verify: r.verify,
        attack: exfil ? ['T1048', 'T1041'] : ['T1071'],
        d3fend: exfil ? [D3FEND.outboundFiltering, D3FEND.networkIsolation] : [D3FEND.outboundFiltering, D3FEND.dnsDenylisting, D3FEND.networkIsolation],
        generic: false,
      };
    }
    case 'protocol_misuse': {
      const remote = split(scope.remote);
      const targets = count(remote) > 0 ? remote : split(scope.victims);
      if (count(targets) === 0) break;
      const r = blockRules(scope, targets, 'daddr', scope.ports);
      return {
        summary: `Block the unusual protocol/port use to ${[...targets.v4, ...targets.v6].slice(0, 5).join(', ')} and identify the application behind it.`,
        steps: [
          'Drop the traffic to the address and port(s) below (rules expire on their own).',
          'Identify the process on the source host using this port or protocol; legitimate services rarely run on non-standard ports.',
          'Allow only expected protocols per port at the perimeter (egress filtering).',
        ],
        nftables: r.nft,
        iptables: r.ipt,
        undo: r.undo,
        verify: r.verify,
        attack: ['T1571', 'T1095'],
        d3fend: [D3FEND.networkFiltering, D3FEND.protocolMetadataAnomaly],
        generic: false,
      };
    }
    case 'untyped':
      break;
  }
  return GENERIC;
}
