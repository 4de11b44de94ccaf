/**
 * AnomalyModel: the bundle the pipeline uses — mean imputation + standard scaling + IsolationForest +
 * per-feature training statistics — with severity, explanations and persistence. Pure (no I/O);
 * scoring of large inputs runs on the score worker pool.
 */
import { z } from 'zod';
import { creditsRange } from './explain.ts';
import { ExplanationSet } from './explanation-set.ts';
import { forestJsonSchema, InputError, IsolationForest, PARALLEL_MIN_ROWS } from './isolation-forest.ts';
import { creditsParallel, defaultWorkers, sharedFloat64, warmScorePool } from './pool.ts';
import { featureStats, fitImputeScale, scaleValue, transformColumns, type Scaler } from './preprocess.ts';
import { severityOf } from './severity.ts';
import type {
  AnomalyModelJSON,
  DetectionWarning,
  Explanation,
  FeatureStats,
  FitResult,
  IsolationForestParams,
  ScoreOptions,
  ScoreResult,
} from './types.ts';

export const MODEL_FORMAT_VERSION = 1;
/** From this many rows, explainAsync splits the work across workers by default. */
export const PARALLEL_EXPLAIN_ROWS = 5_000;

export class AnomalyModel {
  readonly features: readonly string[];
  readonly stats: readonly FeatureStats[];
  readonly forest: IsolationForest;
  private readonly scaler: Scaler;

  private constructor(features: readonly string[], scaler: Scaler, stats: readonly FeatureStats[], forest: IsolationForest) {
    this.features = Object.freeze([...features]);
    this.scaler = scaler;
    this.stats = Object.freeze([...stats]);
    this.forest = forest;
  }

  /** sklearn's offset_: rows with score < offset are anomalies. */
  get offset(): number {
    return this.forest.offset;
  }
  /** The validated parameters the forest was fitted with. */
  get params(): IsolationForestParams {
    return this.forest.fittedParams;
  }

  /**
   * Impute, scale, fit the forest and score the training rows once (the contamination offset uses
   * those scores too). `columns` are unscaled, one per feature, NaN = missing.
   */
  static async fit(
    features: readonly string[],
    columns: readonly Float64Array[],
    params: Partial<IsolationForestParams> = {},
    options: ScoreOptions = {},
  ): Promise<FitResult> {
    checkColumns(features, columns);
    const workers = options.workers ?? (columns[0].length >= PARALLEL_MIN_ROWS ? defaultWorkers() : 1);
    // Workers start (if not warm yet) while this thread scales the data and grows the trees.
    const warming = workers > 1 ? warmScorePool(workers) : null;
    warming?.catch(() => {}); // a failed start surfaces when scoring
    const warnings: DetectionWarning[] = [];
    const forest = new IsolationForest(params);
    forest.featureNames = features;
    const { scaler, imputed, std, allMissing } = fitImputeScale(columns);
    for (const c of allMissing) {
      warnings.push({ code: 'feature-all-missing', message: `Feature "${features[c]}" has no numeric value; it cannot separate rows` });
    }
    for (let c = 0; c < features.length; c++) {
      if (imputed[c] > 0 && !allMissing.includes(c)) {
        warnings.push({
          code: 'missing-imputed',
          message: `Feature "${features[c]}": ${imputed[c]} missing or non-finite value(s) imputed with the training mean ${scaler.mean[c]}`,
        });
      }
    }
    const rows = transformColumns(columns, scaler, true);
    forest.fitTrees(rows);
    warnings.push(...forest.warnings);
    // Workers score while this thread computes the training statistics.
    const scoring = forest.scoreRowsAsync(rows, { ...options, workers });
    const stats = features.map((name, c) => featureStats(name, columns[c], scaler.mean[c], std[c]));
    const scores = await scoring;
    forest.setOffsetFromScores(scores);
    const model = new AnomalyModel(features, scaler, stats, forest);
    return { model, warnings, ...model.label(scores) };
  }

  /** Score new rows (same features, unscaled, NaN imputed with the training mean). */
  async score(columns: readonly Float64Array[], options: ScoreOptions = {}): Promise<ScoreResult> {
    checkColumns(this.features, columns);
    const rows = transformColumns(columns, this.scaler, true);
    const scores = await this.forest.scoreRowsAsync(rows, options);
    return this.label(scores);
  }

  /** isAnomaly (score < offset) and severity for scores. */
  label(scores: Float64Array): ScoreResult {
    const offset = this.offset;
    const isAnomaly = new Uint8Array(scores.length);
    const severity = new Float64Array(scores.length);
    for (let i = 0; i < scores.length; i++) {
      const s = scores[i];
      isAnomaly[i] = s - offset < 0 ? 1 : 0;
      severity[i] = severityOf(s, offset);
    }
    return { scores, isAnomaly, severity };
  }

  /**
   * Why each of `rows` is unusual: every feature's share of the isolation the trees achieved on the
   * row's paths (see explain.ts), ranked, with the row's value (a missing value shows the imputed
   * mean the model used), the training median, its training percentile and direction.
   */
  explain(columns: readonly Float64Array[], rows: ArrayLike<number>): Explanation[] {
    return this.explainHere(columns, rows).toArray();
  }

  /** explainPacked() on this thread. */
  private explainHere(columns: readonly Float64Array[], rows: ArrayLike<number>): ExplanationSet {
    const { x, values } = this.explainRows(columns, rows, false);
    const credits = new Float64Array(rows.length * this.features.length);
    creditsRange(this.forest.packed, x, 0, rows.length, credits);
    return ExplanationSet.fromCredits(this.features, this.stats, rows, values, credits);
  }

  /**
   * explain() with the tree walks split across the score worker pool for many rows (default: 2
   * workers from 5,000 rows); the result is identical to explain().
   */
  async explainAsync(columns: readonly Float64Array[], rows: ArrayLike<number>, options: ScoreOptions = {}): Promise<Explanation[]> {
    return (await this.explainPacked(columns, rows, options)).toArray();
  }

  /**
   * The explanations of explainAsync() as flat arrays (ExplanationSet: no object per row), for
   * callers that explain many rows; set.at(i) is explainAsync()'s i-th explanation.
   */
  async explainPacked(columns: readonly Float64Array[], rows: ArrayLike<number>, options: ScoreOptions = {}): Promise<ExplanationSet> {
    const workers = Math.min(options.workers ?? (rows.length >= PARALLEL_EXPLAIN_ROWS ? defaultWorkers() : 1), rows.length);
    if (!(workers > 1)) return this.explainHere(columns, rows);
    const { x, values } = this.explainRows(columns, rows, true);
    const credits = sharedFloat64(rows.length * this.features.length);
    await creditsParallel(this.forest.packed, x, rows.length, credits, workers);
    return ExplanationSet.fromCredits(this.features, this.stats, rows, values, credits);
  }

  /**
   * The rows to explain, row-major: scaled float32 (`x`, shared for workers) and the values the
   * model uses (`values`: missing ones imputed with the mean), read from the columns in one pass.
   * Checks the row numbers.
   */
  private explainRows(columns: readonly Float64Array[], rows: ArrayLike<number>, shared: boolean): { x: Float32Array; values: Float64Array } {
    checkColumns(this.features, columns, true);
    const mean = this.scaler.mean;
    const k = this.features.length;
    const n = columns[0].length;
    const x = shared ? new Float32Array(new SharedArrayBuffer(Math.max(1, rows.length * k) * 4), 0, rows.length * k) : new Float32Array(rows.length * k);
    const values = new Float64Array(rows.length * k);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!Number.isInteger(r) || r < 0 || r >= n) throw new InputError(`Row ${r} is out of range (0..${n - 1})`);
      for (let c = 0; c < k; c++) {
        const raw = columns[c][r];
        const v = raw - raw === 0 ? raw : mean[c];
        values[i * k + c] = v;
        x[i * k + c] = scaleValue(this.scaler, c, v);
      }
    }
    return { x, values };
  }

  toJSON(): AnomalyModelJSON {
    return {
      name: 'AnomalyModel',
      version: MODEL_FORMAT_VERSION,
      features: [...this.features],
      scaler: { mean: Array.from(this.scaler.mean), scale: Array.from(this.scaler.scale) },
      stats: this.stats.map((s) => ({ ...s, quantiles: [...s.quantiles] })),
      forest: this.forest.toJSON(),
    };
  }

  /** Validate with zod and rebuild; rejects a wrong name/version and inconsistent lengths. */
  static fromJSON(json: unknown): AnomalyModel {
    const parsed = modelJsonSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`Invalid AnomalyModel JSON at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const j = parsed.data;
    const k = j.features.length;
    if (j.scaler.mean.length !== k || j.scaler.scale.length !== k || j.stats.length !== k || j.forest.nFeatures !== k) {
      throw new InputError(
        `Invalid AnomalyModel JSON: ${k} features but scaler ${j.scaler.mean.length}/${j.scaler.scale.length}, stats ${j.stats.length}, forest ${j.forest.nFeatures}`,
      );
    }
    j.stats.forEach((s, c) => {
      if (s.name !== j.features[c]) throw new InputError(`Invalid AnomalyModel JSON: stats.${c} is "${s.name}", expected "${j.features[c]}"`);
    });
    if (j.scaler.scale.some((v) => !(v > 0))) throw new InputError('Invalid AnomalyModel JSON: scaler.scale must be > 0');
    const forest = IsolationForest.fromJSON(j.forest);
    forest.featureNames = j.features;
    const scaler: Scaler = { mean: Float64Array.from(j.scaler.mean), scale: Float64Array.from(j.scaler.scale) };
    return new AnomalyModel(j.features, scaler, j.stats as FeatureStats[], forest);
  }
}

function checkColumns(features: readonly string[], columns: readonly Float64Array[], allowEmpty = false): void {
  if (features.length === 0) throw new InputError('No features given: at least one feature is required');
  if (new Set(features).size !== features.length) throw new InputError(`Feature names must be unique, given ${features.join(', ')}`);
  if (columns.length !== features.length) {
    throw new InputError(`Expected ${features.length} columns (${features.join(', ')}), given ${columns.length}`);
  }
  const n = columns[0].length;
  columns.forEach((col, c) => {
    if (col.length !== n) throw new InputError(`Column "${features[c]}" has ${col.length} rows, expected ${n} like "${features[0]}"`);
  });
  if (n === 0 && !allowEmpty) throw new InputError('No rows: at least one row is required');
}

const statsSchema = z.object({
  name: z.string(),
  mean: z.number(),
  std: z.number().min(0),
  min: z.number(),
  max: z.number(),
  median: z.number(),
  quantiles: z.array(z.number()).min(2),
  imputed: z.number().int().min(0),
});

const modelJsonSchema = z.object({
  name: z.literal('AnomalyModel'),
  version: z.literal(MODEL_FORMAT_VERSION),
  features: z.array(z.string()).min(1),
  scaler: z.object({ mean: z.array(z.number()), scale: z.array(z.number()) }),
  stats: z.array(statsSchema),
  forest: forestJsonSchema,
});
