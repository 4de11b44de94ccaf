/** CSV builders for tests: seeded flow rows with the default features and context columns. */
import { mulberry32 } from '../../src/lib/prng.ts';
import { FLOW_FEATURES } from '../../src/ingest/types.ts';

export const DEFAULT_FEATURES = FLOW_FEATURES;

export const FLOW_HEADER = [
  'timestamp',
  'source_ip',
  'destination_ip',
  'source_port',
  'destination_port',
  'protocol',
  ...DEFAULT_FEATURES,
] as const;

const rng = mulberry32;

export interface FlowCsvOptions {
  readonly rows?: number;
  /** Rows (at the end) made extreme: huge transfers from one source. */
  readonly anomalies?: number;
  readonly seed?: number;
  /** Replace cells: (row index, column name, value) → new text. */
  readonly cell?: (row: number, column: string, value: string) => string;
  readonly header?: readonly string[];
}

/** A flow CSV: `rows` normal flows then `anomalies` extreme ones, one minute apart from 2024-01-15. */
export function flowCsv(options: FlowCsvOptions = {}): string {
  const rows = options.rows ?? 300;
  const anomalies = options.anomalies ?? 6;
  const random = rng(options.seed ?? 7);
  const header = options.header ?? FLOW_HEADER;
  const lines = [header.join(',')];
  const start = Date.UTC(2024, 0, 15, 8, 0, 0);
  for (let i = 0; i < rows + anomalies; i++) {
    const odd = i >= rows;
    const bytes = odd ? 5e7 + random() * 1e7 : 2000 + random() * 3000;
    const packets = odd ? 40000 + Math.floor(random() * 1000) : 10 + Math.floor(random() * 20);
    const duration = odd ? 0.5 + random() : 1 + random() * 4;
    const record: Record<string, string> = {
      timestamp: new Date(start + i * 60_000).toISOString().replace('T', ' ').slice(0, 19),
      source_ip: odd ? '10.0.0.66' : `192.168.1.${1 + Math.floor(random() * 50)}`,
      destination_ip: odd ? '203.0.113.9' : `10.0.1.${1 + Math.floor(random() * 20)}`,
      source_port: String(1024 + Math.floor(random() * 60000)),
      destination_port: odd ? '4444' : random() < 0.5 ? '443' : '80',
      protocol: 'TCP',
      bytes_transferred: bytes.toFixed(0),
      packet_count: String(packets),
      connection_duration: duration.toFixed(3),
      bytes_per_packet: (bytes / packets).toFixed(3),
      packets_per_second: (packets / duration).toFixed(3),
      retransmission_rate: (odd ? 0.3 + random() * 0.2 : random() * 0.02).toFixed(4),
    };
    lines.push(header.map((h) => (options.cell ? options.cell(i, h, record[h] ?? '') : (record[h] ?? ''))).join(','));
  }
  return lines.join('\n') + '\n';
}
