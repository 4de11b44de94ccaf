/**
 * Reports: CSV writers for downloads (formula-injection safe) and the explanation text they share
 * with the pages.
 */
export {
  ANOMALY_REPORT_COLUMNS,
  type AnomalyReportOptions,
  type ReportTable,
  SCORED_DATASET_COLUMNS,
  type ScoredDatasetOptions,
  type ScoredRows,
  scoredRowsOf,
  readOriginalLines,
  type AnomalyReportRows,
  writeAnomalyReport,
  writeAnomalyReportRows,
  writeScoredDataset,
  writeScoredRows,
} from './writers.ts';
export { decodeRowsFile, encodeRowsFile, type RowsFileInput, writeRowsFile, writeScoredDatasetFromRows } from './rows-file.ts';
export {
  decodeIncidentsBin,
  encodeIncidentsBin,
  writeIncidentsBin,
  INCIDENT_REPORT_COLUMNS,
  INCIDENTS_FILE_VERSION,
  incidentReportChunks,
  incidentReportHeader,
  type IncidentFlowsEntry,
  type IncidentsFile,
  type IncidentsFileInput,
  parseIncidentsFile,
} from './incident-file.ts';
export {
  contributionClause,
  DEFAULT_RECOMMENDATIONS,
  explanationSentence,
  formatValue,
  topFeaturesText,
} from './text.ts';
export { AtomicOutput, appendedNames, csvCell, isFormulaLike, numberCell, writeAtomically } from './csv.ts';
export {
  anomalyRowOf,
  anomalyRowsOf,
  type AnomalyRowsInput,
  type AnomalyRowsJob,
  packAnomalyRowsJob,
  type PackedValueColumn,
  reportOnlyJob,
  writeAnomalyFiles,
  writeAnomalyReportJob,
  writeAnomalyRowsJob,
} from './report-job.ts';
export { type ReportWorker, startReportWorker } from './report-runner.ts';
export { chartPointsInfo, type ChartPointsInfo, type PointsJob, writePoints } from './points-job.ts';
export { AnomalyRowsFile, writeAnomalyRowsFile } from './anomalies-file.ts';
