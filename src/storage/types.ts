/** What the history and home pages list about one stored analysis (read from its summary.json). */
export interface AnalysisListItem {
  readonly id: string;
  readonly createdAt: string; // ISO 8601
  readonly fileName: string; // display only
  readonly total_records: number;
  readonly anomaly_count: number;
  readonly anomaly_percentage: number;
  readonly incidents: number;
}

/** The files an analysis folder holds (see src/analysis/types.ts). Only these are ever served (rows.bin never directly). */
export const ANALYSIS_FILES = [
  'input.csv',
  'summary.json',
  'anomalies.json',
  'anomalies.bin',
  'points.json',
  'anomalies.csv',
  'results.csv',
  'rows.bin',
  'incidents.json',
  'incidents.bin',
  'model.json',
  'charts.json',
  'scatter.png',
  'distribution.png',
  'timeline.png',
] as const;
export type AnalysisFile = (typeof ANALYSIS_FILES)[number];

/** Generated sample files: sample_YYYYMMDD_HHMMSS_xxxxxx.csv */
export const SAMPLE_FILE_PATTERN = /^sample_\d{8}_\d{6}_[0-9a-f]{6}\.csv$/;
