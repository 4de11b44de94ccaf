/** The detector's public API: pure, sklearn-exact Isolation Forest and the model bundle around it. */
export { IsolationForest, InputError, NotFittedError, toFloat32Rows, PARALLEL_MIN_ROWS } from './isolation-forest.ts';
export type { AsyncScoreOptions, Float32Rows } from './isolation-forest.ts';
export { AnomalyModel } from './model.ts';
export { ExplanationSet } from './explanation-set.ts';
export type { Explanations } from './explanation-set.ts';
export { ParameterError, DEFAULT_PARAMS, validateParams } from './params.ts';
export { severityOf, severities } from './severity.ts';
export { averagePathLength, maxDepthFor, quantile, quantileSorted } from './math.ts';
export { featureStats, percentileOf, fitImputeScale, transformColumns, STAT_QUANTILES } from './preprocess.ts';
export { rocAuc } from './metrics.ts';
export { Random } from './random.ts';
export { closeScorePool, defaultWorkers, warmScorePool } from './pool.ts';
export * from './types.ts';
