/**
 * The warm-up of a parse worker (pool.ts): a small generated flow CSV parsed in this thread the way
 * an upload's parse runs on the workers (a BatchSplitter cutting it into batches for two
 * PartParsers: one reads the header from the first batch, the other from the header message), so
 * the tokenizer, the number, time and text decoders and the part's end run often enough for the
 * JIT to compile them before the first real upload. The values look like real exports: integers,
 * short and 17-digit decimals, zeros, ISO-like and epoch times, addresses, protocols, labels, some
 * quoted fields. Nothing is read from disk (no column changes kind, so no row is re-read). The
 * warm-up gives way to a real parse that arrives meanwhile: that parse's first rows warm the parser
 * up instead, at no extra cost.
 */
import { mulberry32 } from '../lib/prng.ts';
import { PartParser } from './part.ts';
import { BatchSplitter } from './split.ts';
import { FLOW_FEATURES } from './types.ts';

/** Rows of the warm-up CSV (about 140 bytes each). */
export const WARM_ROWS = 6000;

/** Small batches: each part parses several, as in an upload. */
const WARM_BATCH_BYTES = 64 * 1024;

const HEADER = ['timestamp', 'ts', 'source_ip', 'source_port', 'destination_port', 'protocol', ...FLOW_FEATURES, 'label', 'attack_type', 'destination_ip'];
const PROTOCOLS = ['TCP', 'UDP', 'ICMP'];
const ATTACKS = ['normal', 'normal', 'normal', 'port_scan', 'ddos', 'brute_force'];
/** Distinct rows generated; the rest repeat them (cheaper to make), each with its own destination. */
const BLOCK_ROWS = 500;

/** `rows` seeded flow records under a header (see the module comment). */
export function warmCsv(rows: number, seed = 1): Buffer {
  const r = mulberry32(seed);
  const start = Date.UTC(2024, 0, 15);
  const block: string[] = [];
  for (let i = 0; i < Math.min(rows, BLOCK_ROWS); i++) {
    const packets = 1 + Math.floor(r() * 400);
    const bytes = packets * (40 + Math.floor(r() * 1400));
    const duration = r() * 30;
    const ms = start + i * 1700 + Math.floor(r() * 1000);
    const iso = new Date(ms).toISOString();
    const attack = ATTACKS[Math.floor(r() * ATTACKS.length)];
    block.push(
      [
        i % 2 === 0 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso,
        (ms / 1000).toFixed(6),
        `10.0.${Math.floor(r() * 4)}.${1 + Math.floor(r() * 250)}`,
        1024 + Math.floor(r() * 64000),
        [443, 80, 53, 22][Math.floor(r() * 4)],
        i % 7 === 0 ? `"${PROTOCOLS[i % 3]}"` : PROTOCOLS[i % 3],
        bytes,
        packets,
        duration.toFixed(3),
        i % 3 === 0 ? String(bytes / packets) : (bytes / packets).toFixed(4),
        i % 5 === 0 ? String(packets / duration) : (packets / duration).toFixed(2),
        r() < 0.5 ? '0' : (r() * 0.05).toFixed(4),
        attack === 'normal' ? 0 : 1,
        attack,
      ].join(','),
    );
  }
  const lines = [HEADER.join(',')];
  // Destinations all different, so the text dictionary grows as with real traffic.
  for (let i = 0; i < rows; i++) lines.push(`${block[i % BLOCK_ROWS]},${11 + (i % 200)}.${(i >> 8) & 255}.${i & 255}.${1 + (i % 254)}`);
  return Buffer.from(`${lines.join('\n')}\n`);
}

/**
 * Parses `rows` generated rows as two workers of an upload would (see the module comment); returns
 * the rows parsed, or null when `stopped()` turned true first (checked every 64 KiB: a real parse
 * is waiting, and will warm the parser up itself).
 */
export async function warmParse(rows: number = WARM_ROWS, stopped: () => boolean = () => false): Promise<number | null> {
  if (stopped()) return null;
  const bytes = warmCsv(rows);
  const options = { requiredColumns: FLOW_FEATURES, numericColumns: FLOW_FEATURES, sizeHint: bytes.length };
  const parts = [new PartParser(options), new PartParser(options)];
  const splitter = new BatchSplitter((w, msg) => parts[w].receive(msg), parts.length, WARM_BATCH_BYTES);
  for (let p = 0; p < bytes.length; p += 65536) {
    if (stopped()) return null;
    splitter.push(bytes.subarray(p, p + 65536));
  }
  splitter.end();
  let parsed = 0;
  for (const part of parts) {
    // The source is never read: no column changes kind.
    const result = await part.end('');
    if (!result.ok) throw new Error(`warm-up parse failed: ${result.failure.message}`);
    parsed += result.table.rowCount;
  }
  return parsed;
}
