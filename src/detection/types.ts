/**
 * Shared shapes of the detector. `src/detection` is pure: no express, winston, fs or process.
 */

/** Row-major matrix with an explicit column count. */
export interface Matrix {
  readonly data: Float64Array | Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/** sklearn's max_samples: TypeScript cannot tell 1 from 1.0, so say which. */
export type MaxSamples = 'auto' | { readonly count: number } | { readonly fraction: number };

/** sklearn's max_features: a count of columns or a fraction of them. */
export type MaxFeatures = { readonly count: number } | { readonly fraction: number };

export interface IsolationForestParams {
  readonly nEstimators: number; // 100
  readonly maxSamples: MaxSamples; // 'auto'
  readonly contamination: 'auto' | number; // 'auto' or (0, 0.5]
  readonly maxFeatures: MaxFeatures; // { fraction: 1 }
  readonly bootstrap: boolean; // false
  readonly randomState: number; // seed
}

/** Per-feature training statistics kept with the model (on the unscaled, imputed values). */
export interface FeatureStats {
  readonly name: string;
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly median: number;
  /** Values at evenly spaced quantiles 0, 1/(k-1), ..., 1 (k = quantiles.length), for percentiles. */
  readonly quantiles: readonly number[];
  /** Rows whose value was missing and imputed with the mean. */
  readonly imputed: number;
}

/** One feature's part in why a row is anomalous. Weights over a row's features sum to 1. */
export interface FeatureContribution {
  readonly feature: string;
  readonly value: number; // the row's original (unscaled) value
  readonly median: number; // training median
  readonly percentile: number; // 0..100, of value within the training data
  readonly direction: 'high' | 'low';
  readonly weight: number; // 0..1
}

export interface Explanation {
  readonly row: number;
  /** Sorted by weight, largest first. */
  readonly contributions: readonly FeatureContribution[];
}

/** Warnings come back as data, never logged from here. */
export interface DetectionWarning {
  readonly code: string;
  readonly message: string;
}

// ---- Additions by the detector (issue #2) ----

/**
 * One isolation tree as scikit-learn stores it (`tree_`), in node order, root = 0: leaves have
 * left = right = -1, feature = -2, threshold = -2. `feature` holds ORIGINAL column indices (a tree
 * fitted on a column subset has them mapped back). A row goes left when x <= threshold.
 */
export interface IsolationTreeArrays {
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  /** Training rows that reached each node (sklearn's n_node_samples). */
  readonly nNodeSamples: Int32Array;
  /**
   * Range of the split feature over the node's training rows (scaled, float32 values), 0 at leaves;
   * splitMin <= threshold < splitMax. Used by explanations only; absent for scikit-learn's trees.
   */
  readonly splitMin?: Float64Array;
  readonly splitMax?: Float64Array;
}

/** JSON form of one tree (plain arrays, full float precision). */
export interface IsolationTreeJSON {
  readonly left: number[];
  readonly right: number[];
  readonly feature: number[];
  readonly threshold: number[];
  readonly nNodeSamples: number[];
  /** null for trees loaded from scikit-learn (ranges unknown). */
  readonly splitMin: number[] | null;
  readonly splitMax: number[] | null;
}

export interface IsolationForestJSON {
  readonly name: 'IsolationForest';
  readonly version: 2;
  readonly params: IsolationForestParams;
  readonly nFeatures: number;
  readonly featureNames: readonly string[] | null;
  readonly maxSamples: number;
  readonly offset: number;
  readonly trees: readonly IsolationTreeJSON[];
}

/** Standard scaler: z = (x - mean) / scale, scale = std or 1 where std is 0 (as sklearn). */
export interface ScalerJSON {
  readonly mean: readonly number[];
  readonly scale: readonly number[];
}

export interface AnomalyModelJSON {
  readonly name: 'AnomalyModel';
  readonly version: 1;
  readonly features: readonly string[];
  readonly scaler: ScalerJSON;
  readonly stats: readonly FeatureStats[];
  readonly forest: IsolationForestJSON;
}

/** Result of scoring rows with a fitted AnomalyModel. */
export interface ScoreResult {
  /** sklearn's score_samples: lower = more abnormal, in (-1, 0). */
  readonly scores: Float64Array;
  /** 1 where the decision function (score - offset) is < 0. */
  readonly isAnomaly: Uint8Array;
  /** 0..100, monotone in score, the offset maps to 50 (see severity.ts). */
  readonly severity: Float64Array;
}

export interface FitResult extends ScoreResult {
  readonly model: import('./model.ts').AnomalyModel;
  readonly warnings: DetectionWarning[];
}

export interface ScoreOptions {
  /** Worker threads to use; 0 or 1 = the calling thread. Default: 2 for large inputs (>= 50,000 rows). */
  readonly workers?: number;
}
