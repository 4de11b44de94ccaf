/**
 * Writing generated traffic as CSV in our schema (streamed in chunks to path + '.tmp', then renamed),
 * and turning it into a FlowTable directly (tests and benchmarks skip the CSV round trip).
 */
import { open, rename, rm } from 'node:fs/promises';
import type { CategoryColumn, Column, FlowTable, NumericColumn, TimeColumn } from '../ingest/types.ts';
import type { GeneratorOptions } from './options.ts';
import { generateTraffic } from './traffic.ts';
import type { GeneratedTraffic } from './traffic.ts';

export const CSV_HEADER = [
  'bytes_transferred',
  'packet_count',
  'connection_duration',
  'source_port',
  'destination_port',
  'retransmission_rate',
  'timestamp',
  'protocol',
  'bytes_per_packet',
  'packets_per_second',
  'source_ip',
  'destination_ip',
  'label',
  'attack_type',
] as const;

const pad2 = (x: number): string => (x < 10 ? '0' + x : String(x));

/** Formats epoch ms as 'YYYY-MM-DD HH:MM:SS' (UTC), caching the date part per day. */
class TimestampFormatter {
  private day = NaN;
  private dayText = '';
  format(ms: number): string {
    const sec = Math.floor(ms / 1000);
    const day = Math.floor(sec / 86400);
    if (day !== this.day) {
      this.day = day;
      this.dayText = new Date(day * 86_400_000).toISOString().slice(0, 10);
    }
    const s = sec - day * 86400;
    return `${this.dayText} ${pad2(Math.floor(s / 3600))}:${pad2(Math.floor((s % 3600) / 60))}:${pad2(s % 60)}`;
  }
}

function formatRow(t: GeneratedTraffic, i: number, ts: TimestampFormatter): string {
  return (
    `${t.bytes[i]},${t.packets[i]},${t.duration[i]},${t.sourcePort[i]},${t.destinationPort[i]},` +
    `${t.retransmissionRate[i]},${ts.format(t.timestamp[i])},${t.protocols[t.protocol[i]]},` +
    `${t.bytesPerPacket[i]},${t.packetsPerSecond[i]},${t.addresses[t.sourceIp[i]]},` +
    `${t.addresses[t.destinationIp[i]]},${t.label[i]},${t.attackTypes[t.attackType[i]]}\n`
  );
}

export interface WriteSummary {
  readonly records: number;
  readonly anomalies: number;
  readonly byType: Record<string, number>;
}

export function summarize(t: GeneratedTraffic): WriteSummary {
  const counts = new Array<number>(t.attackTypes.length).fill(0);
  for (let i = 0; i < t.rows; i++) counts[t.attackType[i]]++;
  const byType: Record<string, number> = {};
  t.attackTypes.forEach((name, k) => (byType[name] = counts[k]));
  return { records: t.rows, anomalies: t.rows - counts[0], byType };
}

/** Writes already generated traffic as CSV (temp file, then rename). */
export async function writeGeneratedCsv(t: GeneratedTraffic, path: string): Promise<WriteSummary> {
  const tmp = path + '.tmp';
  const handle = await open(tmp, 'w');
  try {
    const ts = new TimestampFormatter();
    let chunk = CSV_HEADER.join(',') + '\n';
    for (let i = 0; i < t.rows; i++) {
      chunk += formatRow(t, i, ts);
      if (chunk.length > 1 << 20) {
        await handle.write(chunk);
        chunk = '';
      }
    }
    if (chunk.length > 0) await handle.write(chunk);
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, path);
  return summarize(t);
}

/** Generates traffic and writes it to `path` as CSV. */
export async function writeTrafficCsv(opts: GeneratorOptions, path: string): Promise<WriteSummary> {
  return writeGeneratedCsv(generateTraffic(opts), path);
}

/** The CSV text of generated traffic (small data sets: tests, downloads). */
export function trafficToCsv(t: GeneratedTraffic): string {
  const ts = new TimestampFormatter();
  const parts: string[] = [CSV_HEADER.join(',') + '\n'];
  for (let i = 0; i < t.rows; i++) parts.push(formatRow(t, i, ts));
  return parts.join('');
}

/**
 * The FlowTable a parser would build from this traffic's CSV, built directly (offsets and line
 * numbers match the text `trafficToCsv` / `writeTrafficCsv` produce).
 */
export function trafficToFlowTable(t: GeneratedTraffic): FlowTable {
  const n = t.rows;
  const num = (name: string, values: Float64Array): NumericColumn => ({ kind: 'numeric', name, values, missing: 0 });
  const toF64 = (a: Int32Array): Float64Array => Float64Array.from(a);
  const cat = (name: string, codes: Int32Array, dictionary: readonly string[]): CategoryColumn => ({
    kind: 'category',
    name,
    codes,
    dictionary,
  });
  const u8ToI32 = (a: Uint8Array): Int32Array => Int32Array.from(a);
  const time: TimeColumn = { kind: 'time', name: 'timestamp', values: t.timestamp, missing: 0, format: 'iso' };
  const columns: Column[] = [
    num('bytes_transferred', t.bytes),
    num('packet_count', t.packets),
    num('connection_duration', t.duration),
    num('source_port', toF64(t.sourcePort)),
    num('destination_port', toF64(t.destinationPort)),
    num('retransmission_rate', t.retransmissionRate),
    time,
    cat('protocol', u8ToI32(t.protocol), t.protocols),
    num('bytes_per_packet', t.bytesPerPacket),
    num('packets_per_second', t.packetsPerSecond),
    cat('source_ip', t.sourceIp, t.addresses),
    cat('destination_ip', t.destinationIp, t.addresses),
    num('label', Float64Array.from(t.label)),
    cat('attack_type', u8ToI32(t.attackType), t.attackTypes),
  ];
  const rowOffsets = new Float64Array(n + 1);
  const lineNumbers = new Int32Array(n);
  const ts = new TimestampFormatter();
  let offset = CSV_HEADER.join(',').length + 1;
  for (let i = 0; i < n; i++) {
    rowOffsets[i] = offset;
    lineNumbers[i] = i + 2;
    offset += formatRow(t, i, ts).length; // ASCII only: characters = bytes
  }
  rowOffsets[n] = offset;
  return { rowCount: n, columns, header: [...CSV_HEADER], rowOffsets, lineNumbers, warnings: [] };
}
