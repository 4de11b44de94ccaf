/**
 * What the analysis says happened: attack types per flow, incidents, time patterns, mitigations.
 * Pure data, built on the detector's scores and explanations. The helper that owns src/findings may
 * add fields; it must not remove or rename these (the web layer and reports read them).
 */
import type { Explanations } from '../detection/explanation-set.ts';
import type { FlowTable } from '../ingest/types.ts';
import type { FindingsPrelude } from './prelude.ts';

export type AttackType =
  | 'ddos'
  | 'port_scan'
  | 'brute_force'
  | 'data_exfiltration'
  | 'beaconing'
  | 'protocol_misuse'
  | 'untyped';

export interface FindingsInput {
  readonly table: FlowTable;
  /** Feature columns the detector used, in order. */
  readonly features: readonly string[];
  /** sklearn-style score per row (lower = more abnormal). */
  readonly scores: Float64Array;
  /** 1 where the detector flagged the row. */
  readonly isAnomaly: Uint8Array;
  /** 0..100 per row; 50 = the detector's threshold. */
  readonly severity: Float64Array;
  /** Explanations for (at least) every anomalous row: keyed by row index, or packed (the pipeline's). */
  readonly explanations: Explanations;
  /**
   * prepareFindings of this table, made while the detector scored (with the same behaviour options);
   * without it analyzeFindings makes it. The findings are the same either way.
   */
  readonly prelude?: FindingsPrelude;
}

/** Per-row typing, for anomalous rows and for rows that a behaviour detector hit. */
export interface FlowFinding {
  readonly row: number;
  readonly type: AttackType;
  readonly confidence: number; // 0..1
  readonly reason: string;
  readonly technique: string | null; // MITRE ATT&CK id, e.g. 'T1046'
  readonly incidentId: string | null;
  /** 'detector' (Isolation Forest outlier), 'behaviour' (found by a behaviour detector), or both. */
  readonly source: 'detector' | 'behaviour' | 'both';
}

export interface Mitigation {
  readonly summary: string; // what to do first
  readonly steps: readonly string[];
  readonly nftables: string | null; // ready-to-use rule(s), with expiry
  readonly iptables: string | null;
  readonly undo: readonly string[]; // commands that undo the rules
  readonly verify: readonly string[]; // how to check the action worked
  readonly attack: readonly string[]; // ATT&CK ids
  readonly d3fend: readonly string[]; // D3FEND ids
  readonly generic: boolean; // true when this is fallback advice not scoped to evidence
}

export interface Incident {
  readonly id: string; // 'INC-001', ...
  readonly type: AttackType;
  readonly title: string;
  readonly technique: string | null;
  readonly confidence: number; // 0..1
  readonly severity: number; // 0..100
  readonly firstSeen: number | null; // epoch ms
  readonly lastSeen: number | null;
  readonly flowCount: number;
  readonly bytes: number;
  readonly sourceIps: readonly string[];
  readonly destinationIps: readonly string[];
  readonly destinationPorts: readonly number[];
  readonly protocols: readonly string[];
  /** Every row index behind the incident (evidence), most severe first. */
  readonly rows: readonly number[];
  readonly evidence: readonly string[]; // human sentences: what was seen
  readonly mitigation: Mitigation;
}

export interface TimeBucket {
  readonly start: number; // epoch ms
  readonly flows: number;
  readonly anomalies: number;
}

export interface Burst {
  readonly start: number;
  readonly end: number;
  readonly flows: number;
  readonly anomalies: number;
  readonly rate: number;
  readonly baselineRate: number;
}

export interface PeriodicPattern {
  readonly sourceIp: string;
  readonly destinationIp: string;
  readonly destinationPort: number | null;
  readonly connections: number;
  readonly intervalSeconds: number; // median interval
  readonly jitter: number; // coefficient of variation of intervals
  readonly rows: readonly number[];
}

export interface TimeAnalysis {
  readonly available: boolean; // false when the data has no usable timestamps
  readonly bucketMs: number;
  readonly buckets: readonly TimeBucket[]; // timeline
  readonly byHourOfDay: readonly { hour: number; flows: number; anomalies: number }[]; // 24 entries
  readonly byDay: readonly { day: string; flows: number; anomalies: number }[]; // 'YYYY-MM-DD'
  readonly bursts: readonly Burst[];
  readonly periodic: readonly PeriodicPattern[];
  readonly peakHours: readonly number[]; // hours of day where anomalies concentrate
}

/** The original project's recommendation shape, kept for old clients of /analyze. */
export interface LegacyRecommendation {
  readonly type: string; // e.g. 'PORT_SCAN', 'DDOS', 'DATA_EXFILTRATION', 'GENERAL'
  readonly description: string;
  readonly severity: 'HIGH' | 'MEDIUM' | 'LOW';
  readonly recommendations: readonly string[];
}

export interface Findings {
  /** Typing for every anomalous row and every behaviour hit, by row index. */
  readonly flows: ReadonlyMap<number, FlowFinding>;
  /** Most severe first. */
  readonly incidents: readonly Incident[];
  readonly time: TimeAnalysis;
  readonly recommendations: readonly LegacyRecommendation[];
}
