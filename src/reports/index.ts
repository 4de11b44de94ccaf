/**
 * Reports: CSV writers for downloads (formula-injection safe) and the explanation text they share
 * with the pages.
 */
export {
  ANOMALY_REPORT_COLUMNS,
  type AnomalyReportOptions,
  SCORED_DATASET_COLUMNS,
  type ScoredDatasetOptions,
  writeAnomalyReport,
  writeScoredDataset,
} from './writers.ts';
export {
  contributionClause,
  DEFAULT_RECOMMENDATIONS,
  explanationSentence,
  formatValue,
  topFeaturesText,
} from './text.ts';
export { AtomicOutput, appendedNames, csvCell, csvLine, isFormulaLike, numberCell, writeAtomically } from './csv.ts';
