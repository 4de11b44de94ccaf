/**
 * What an analysis leaves behind, under outputs/<id>/ (written to a temp folder, then renamed):
 *   input.csv        the uploaded file, as uploaded (source of the reports' original values)
 *   summary.json     AnalysisSummary (below): what the page and /analyze show
 *   anomalies.bin    every anomalous row, most severe first, binary and columnar: the page table's
 *                    AnomalyRows are decoded from it a page at a time (reports/anomalies-file.ts);
 *                    analyses from before it have anomalies.json, AnomalyRow[] one per line
 *                    (storage/json-lines.ts)
 *   points.json      ChartPoints: a sample of rows for the interactive chart in the browser
 *   anomalies.csv    the anomaly report (GET /download/<id>)
 *   results.csv      every row with score, severity and label (GET /download/<id>/results); above
 *                    20,000 rows it is written on the first download, from input.csv and
 *   rows.bin         the per-row scores, severities, types and incidents (reports/rows-file.ts)
 *   incidents.bin    every flow behind each incident, with its score, severity, flag, type and reason
 *                    (reports/incident-file.ts): GET /download/<id>/incident/<incidentId> and the
 *                    page's ?incident= filter read it, with input.csv and anomalies.bin (analyses
 *                    from before it have incidents.json)
 *   model.json       the fitted AnomalyModel (toJSON), for later reuse
 *   charts.json      ChartInputs: the chart settings and the score histogram (charts/stored.ts)
 *   scatter.png  distribution.png  timeline.png
 *                    drawn with the analysis, or (the web app) from charts.json, points.json and
 *                    summary.json right after it answers or when first asked for
 */
import type { FeatureContribution, FeatureStats } from '../detection/types.ts';
import type { AttackType, Incident, LegacyRecommendation, TimeAnalysis } from '../findings/types.ts';

export const ANALYSIS_ID_PATTERN = /^\d{8}_\d{6}_[0-9a-f]{6}$/;
/** Incident ids as findings writes them ('INC-001'); checked before one is looked up. */
export const INCIDENT_ID_PATTERN = /^INC-\d{3,6}$/;

export interface AnalysisParameters {
  readonly features: readonly string[];
  readonly contamination: 'auto' | number;
  readonly nEstimators: number;
  readonly randomState: number;
}

export interface AnomalyRow {
  readonly row: number; // 0-based data row index
  readonly line: number; // 1-based line in the uploaded file
  readonly score: number;
  readonly severity: number; // 0..100
  /** The row's values for the features and the canonical context columns present (ips, ports, protocol, timestamp as written). */
  readonly values: Readonly<Record<string, number | string | null>>;
  readonly explanation: readonly FeatureContribution[];
  readonly type: AttackType;
  readonly confidence: number;
  readonly reason: string;
  readonly technique: string | null;
  readonly incidentId: string | null;
  readonly recommendation: string;
}

/** One evidence flow of an incident, as the page shows it (values from the parsed table). */
export interface IncidentFlow {
  readonly row: number; // 0-based data row index
  readonly line: number; // 1-based line in the uploaded file
  /** The timestamp column's value as text (times as 'YYYY-MM-DD HH:MM:SS' UTC), null when missing. */
  readonly timestamp: string | null;
  readonly sourceIp: string | null;
  readonly sourcePort: number | null;
  readonly destinationIp: string | null;
  readonly destinationPort: number | null;
  readonly protocol: string | null;
  readonly bytes: number | null;
  readonly packets: number | null;
  readonly duration: number | null;
  readonly score: number;
  readonly severity: number; // 0..100, 2 decimals
  /** True when the Isolation Forest flagged the flow; false for behaviour-only evidence. */
  readonly detector: boolean;
  /** The flow's own reason (FlowFinding.reason), '' when it has none. */
  readonly reason: string;
}

/** An incident as summary.json holds it: `rows` cut to 200, plus its most severe flows (at most 10). */
export type AnalysisIncident = Incident & { readonly flows: readonly IncidentFlow[] };

export interface ChartPoints {
  readonly x: string; // feature on the x axis
  readonly y: string;
  /** [x, y, isAnomaly (0|1), row, severity] per point; every anomaly plus a sample of normal rows. */
  readonly points: readonly (readonly [number, number, number, number, number])[];
  readonly normalShown: number;
  readonly normalTotal: number;
  /**
   * Whether each axis is drawn on a log scale, decided over every value of the column (charts/
   * sample.ts `useLogScale`): the scatter image and the page's interactive chart both follow it.
   * Every stored points.json has it; a renderer given points without it decides from the points.
   */
  readonly logX?: boolean;
  readonly logY?: boolean;
}

export interface AnalysisSummary {
  readonly id: string;
  readonly createdAt: string; // ISO 8601
  readonly fileName: string; // the user's file name, for display only (never a path)
  readonly fileBytes: number;
  readonly durationMs: number;
  readonly parameters: AnalysisParameters;
  readonly statistics: {
    readonly total_records: number;
    readonly anomaly_count: number;
    readonly anomaly_percentage: number;
  };
  readonly offset: number;
  readonly warnings: readonly string[];
  readonly featureStats: readonly FeatureStats[];
  /** The most severe anomalies (at most 20) for quick views; all of them are in anomalies.bin. */
  readonly topAnomalies: readonly AnomalyRow[];
  /**
   * Incidents with `rows` cut to at most 200 evidence rows each (flowCount keeps the true count; all
   * rows are in incidents.bin) and `flows`, the most severe evidence flows.
   */
  readonly incidents: readonly AnalysisIncident[];
  readonly time: TimeAnalysis;
  readonly recommendations: readonly LegacyRecommendation[];
  readonly charts: {
    readonly scatter: {
      readonly x: string;
      readonly y: string;
      readonly normalShown: number;
      readonly normalTotal: number;
      /** Anomalies drawn (the most severe when fewer than all; absent in analyses made before it was kept). */
      readonly anomalyShown?: number;
      readonly anomalyTotal?: number;
    };
    readonly distribution: { readonly bins: number };
    readonly timeline: { readonly available: boolean };
  };
  /** Milliseconds per pipeline step (move, parse, fit, explain, findings, rows, charts, reports, write, commit). */
  readonly timings: Readonly<Record<string, number>>;
  /** Behaviour-detector hits that the Isolation Forest did not flag (typed in findings, not in anomalies.bin). */
  readonly behaviourOnly: number;
}
