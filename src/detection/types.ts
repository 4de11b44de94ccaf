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
