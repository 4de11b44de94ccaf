/**
 * What normal traffic looks like: services with their ports and flow shapes, and the address plan
 * (internal clients in 10.x / 192.168.x, internal servers, a pool of external servers).
 */
import { cumulative, Rng } from './prng.ts';

export const PROTOCOLS = ['TCP', 'UDP', 'ICMP'] as const;
export const TCP = 0;
export const UDP = 1;
export const ICMP = 2;

export const ATTACK_TYPES = ['normal', 'ddos', 'data_exfiltration', 'port_scan', 'brute_force', 'beaconing'] as const;
export type GeneratedAttackType = (typeof ATTACK_TYPES)[number];

export interface ServiceProfile {
  readonly name: string;
  readonly weight: number;
  readonly protocol: number;
  readonly port: number;
  /** 'external' servers pool, or a fixed internal server address. */
  readonly server: 'external' | string;
  readonly adminOnly?: boolean;
  readonly packetsMedian: number;
  readonly packetsSigma: number;
  readonly bppMean: number;
  readonly bppSd: number;
  readonly bppMin: number;
  readonly bppMax: number;
  readonly durationMedian: number;
  readonly durationSigma: number;
}

export const INTERNAL_SERVERS = {
  dns: '10.0.0.53',
  mail: '10.0.0.25',
  ssh: '10.0.0.22',
  rdp: '10.0.0.33',
  ftp: '10.0.0.21',
  files: '10.0.0.45',
  web: '10.0.0.20',
  app: '10.0.0.80',
} as const;

export const SERVICES: readonly ServiceProfile[] = [
  { name: 'https', weight: 42, protocol: TCP, port: 443, server: 'external', packetsMedian: 40, packetsSigma: 1.0, bppMean: 700, bppSd: 250, bppMin: 60, bppMax: 1460, durationMedian: 2, durationSigma: 1.0 },
  { name: 'http', weight: 8, protocol: TCP, port: 80, server: 'external', packetsMedian: 25, packetsSigma: 1.0, bppMean: 600, bppSd: 250, bppMin: 60, bppMax: 1460, durationMedian: 1, durationSigma: 0.9 },
  { name: 'quic', weight: 5, protocol: UDP, port: 443, server: 'external', packetsMedian: 50, packetsSigma: 1.0, bppMean: 1000, bppSd: 250, bppMin: 80, bppMax: 1350, durationMedian: 2, durationSigma: 1.0 },
  { name: 'dns', weight: 18, protocol: UDP, port: 53, server: INTERNAL_SERVERS.dns, packetsMedian: 2, packetsSigma: 0.3, bppMean: 95, bppSd: 30, bppMin: 60, bppMax: 512, durationMedian: 0.02, durationSigma: 0.6 },
  { name: 'smtp', weight: 3, protocol: TCP, port: 25, server: INTERNAL_SERVERS.mail, packetsMedian: 30, packetsSigma: 0.8, bppMean: 800, bppSd: 300, bppMin: 60, bppMax: 1460, durationMedian: 1.5, durationSigma: 0.7 },
  { name: 'imaps', weight: 4, protocol: TCP, port: 993, server: INTERNAL_SERVERS.mail, packetsMedian: 20, packetsSigma: 0.9, bppMean: 500, bppSd: 200, bppMin: 60, bppMax: 1460, durationMedian: 3, durationSigma: 1.0 },
  { name: 'ssh', weight: 2, protocol: TCP, port: 22, server: INTERNAL_SERVERS.ssh, adminOnly: true, packetsMedian: 150, packetsSigma: 1.2, bppMean: 180, bppSd: 60, bppMin: 60, bppMax: 1460, durationMedian: 120, durationSigma: 1.2 },
  { name: 'rdp', weight: 2, protocol: TCP, port: 3389, server: INTERNAL_SERVERS.rdp, adminOnly: true, packetsMedian: 800, packetsSigma: 1.0, bppMean: 350, bppSd: 120, bppMin: 60, bppMax: 1460, durationMedian: 600, durationSigma: 1.0 },
  { name: 'smb', weight: 6, protocol: TCP, port: 445, server: INTERNAL_SERVERS.files, packetsMedian: 60, packetsSigma: 1.3, bppMean: 900, bppSd: 300, bppMin: 60, bppMax: 1460, durationMedian: 3, durationSigma: 1.2 },
  { name: 'web-internal', weight: 4, protocol: TCP, port: 8080, server: INTERNAL_SERVERS.app, packetsMedian: 20, packetsSigma: 0.8, bppMean: 500, bppSd: 200, bppMin: 60, bppMax: 1460, durationMedian: 0.8, durationSigma: 0.7 },
  { name: 'web-public', weight: 3, protocol: TCP, port: 443, server: INTERNAL_SERVERS.web, packetsMedian: 30, packetsSigma: 0.9, bppMean: 650, bppSd: 250, bppMin: 60, bppMax: 1460, durationMedian: 1.5, durationSigma: 0.9 },
  { name: 'ntp', weight: 2, protocol: UDP, port: 123, server: 'external', packetsMedian: 1.3, packetsSigma: 0.3, bppMean: 76, bppSd: 0.5, bppMin: 76, bppMax: 76, durationMedian: 0.05, durationSigma: 0.5 },
  { name: 'ping', weight: 1, protocol: ICMP, port: 0, server: 'external', packetsMedian: 4, packetsSigma: 0.2, bppMean: 84, bppSd: 0.5, bppMin: 84, bppMax: 84, durationMedian: 3, durationSigma: 0.2 },
];

export const SERVICE_CUMULATIVE = cumulative(SERVICES.map((s) => s.weight));

/** Relative traffic volume per hour of day (UTC): quiet at night, peak in the afternoon. */
export function dailyWeight(hourOfDay: number): number {
  const phase = ((hourOfDay - 14) / 24) * 2 * Math.PI;
  return 0.22 + 0.78 * Math.pow((1 + Math.cos(phase)) / 2, 1.5);
}

function publicAddress(rng: Rng): string {
  // First octets of well-known public ranges (clouds, CDNs, ISPs), avoiding private and reserved blocks.
  const firsts = [13, 20, 23, 31, 34, 35, 45, 52, 54, 62, 77, 81, 91, 104, 142, 151, 172, 185, 195, 203, 212];
  for (;;) {
    const a = rng.pick(firsts);
    const b = rng.int(0, 255);
    if (a === 172 && b >= 16 && b <= 31) continue;
    return `${a}.${b}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
  }
}

export interface AddressPlan {
  readonly clients: readonly string[];
  readonly clientCumulative: Float64Array;
  readonly admins: readonly string[];
  readonly externalServers: readonly string[];
  readonly externalCumulative: Float64Array;
  /** Draw a fresh public address not used by the plan (botnets, C2, drop sites, scanners). */
  freshPublic(rng: Rng): string;
}

export function buildAddressPlan(rng: Rng): AddressPlan {
  const clients: string[] = [];
  for (let i = 0; i < 200; i++) clients.push(`10.0.${1 + (i >> 8)}.${(i & 255) + 1 > 254 ? 254 : (i & 255) + 1}`);
  for (let i = 0; i < 60; i++) clients.push(`192.168.10.${i + 10}`);
  const used = new Set<string>(clients);
  for (const s of Object.values(INTERNAL_SERVERS)) used.add(s);
  const externalServers: string[] = [];
  while (externalServers.length < 80) {
    const a = publicAddress(rng);
    if (used.has(a)) continue;
    used.add(a);
    externalServers.push(a);
  }
  const zipf = (n: number, s: number) => cumulative(Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s)));
  return {
    clients,
    clientCumulative: zipf(clients.length, 0.6),
    admins: clients.slice(0, 8),
    externalServers,
    externalCumulative: zipf(externalServers.length, 0.9),
    freshPublic(r: Rng): string {
      for (;;) {
        const a = publicAddress(r);
        if (!used.has(a)) {
          used.add(a);
          return a;
        }
      }
    },
  };
}
