/**
 * The canonical flow table: what every input format (CSV today; Zeek conn.log, nfdump,
 * CICFlowMeter, Suricata EVE later) is parsed into. Columnar and typed, no object per row,
 * so a file of millions of rows stays within bounded memory.
 */

/** A numeric column. Missing values are NaN and counted in `missing`. */
export interface NumericColumn {
  readonly kind: 'numeric';
  readonly name: string;
  readonly values: Float64Array;
  readonly missing: number;
}

/**
 * A text column, dictionary-encoded: `dictionary[codes[i]]` is row i's value, code -1 means missing.
 * Addresses, protocol names, labels and other repeated strings stay small this way.
 */
export interface CategoryColumn {
  readonly kind: 'category';
  readonly name: string;
  readonly codes: Int32Array;
  readonly dictionary: readonly string[];
}

/**
 * A time column: epoch milliseconds (UTC) per row, NaN where missing or unparseable-but-empty.
 * `format` records how the source wrote it, so a writer can say what it parsed.
 */
export interface TimeColumn {
  readonly kind: 'time';
  readonly name: string;
  readonly values: Float64Array;
  readonly missing: number;
  readonly format: 'iso' | 'epoch-seconds' | 'epoch-millis';
}

export type Column = NumericColumn | CategoryColumn | TimeColumn;

/** The canonical column names the rest of the product understands (findings, charts, generator). */
export const CANONICAL = {
  timestamp: 'timestamp',
  sourceIp: 'source_ip',
  destinationIp: 'destination_ip',
  sourcePort: 'source_port',
  destinationPort: 'destination_port',
  protocol: 'protocol',
  bytes: 'bytes_transferred',
  packets: 'packet_count',
  duration: 'connection_duration',
  retransmissionRate: 'retransmission_rate',
  bytesPerPacket: 'bytes_per_packet',
  packetsPerSecond: 'packets_per_second',
  label: 'label',
  attackType: 'attack_type',
} as const;

/** The numeric flow features the detector uses by default (config.json "features"). */
export const FLOW_FEATURES = [
  CANONICAL.bytes,
  CANONICAL.packets,
  CANONICAL.duration,
  CANONICAL.bytesPerPacket,
  CANONICAL.packetsPerSecond,
  CANONICAL.retransmissionRate,
] as const;

export interface FlowTable {
  readonly rowCount: number;
  /** Columns in source order. */
  readonly columns: readonly Column[];
  /** The source's header, as written (after trimming). */
  readonly header: readonly string[];
  /**
   * Byte offset in the source file of the start of each data row, and the byte offset just past
   * the last row in `rowOffsets[rowCount]` (length rowCount + 1). Lets writers copy a row's
   * original text exactly without keeping every string in memory.
   */
  readonly rowOffsets: Float64Array;
  /** 1-based source line number of each data row (rows may span lines inside quotes). */
  readonly lineNumbers: Int32Array;
  /** Problems that did not stop parsing (e.g. blank lines skipped), as data. */
  readonly warnings: readonly string[];
}

/** A CSV content problem: answered as HTTP 422 with its position. Line and column are 1-based. */
export class CsvFormatError extends Error {
  override readonly name = 'CsvFormatError';
  constructor(
    message: string,
    readonly line: number,
    readonly column: number | null,
    readonly columnName: string | null = null,
  ) {
    super(message);
  }
}
