/**
 * IsolationForest: scikit-learn's estimator (sklearn/ensemble/_iforest.py), exact.
 * Verbs: fit, scoreSamples (lower = more abnormal), decisionFunction (= score - offset), predict
 * (-1 where the decision is < 0, else +1), fitPredict. Rows are cast to float32 as sklearn does.
 */
import { z } from 'zod';
import { DEFAULT_CHUNK_ROWS, packForest, scoreRange, type PackedForest } from './kernel.ts';
import { foldDuplicates, unfold } from './dedupe.ts';
import { maxDepthFor, selectQuantiles } from './math.ts';
import { DEFAULT_PARAMS, paramsSchema, resolveMaxFeatures, resolveMaxSamples, validateParams } from './params.ts';
import { defaultWorkers, scoreParallel, sharedFloat64, toSharedFloat32 } from './pool.ts';
import { Random, sampleWithReplacement, sampleWithoutReplacement } from './random.ts';
import { growTree } from './tree.ts';
import type {
  DetectionWarning,
  IsolationForestJSON,
  IsolationForestParams,
  IsolationTreeArrays,
  Matrix,
} from './types.ts';

/** 2: trees carry splitMin/splitMax (the split feature's training range per node) for explanations. */
export const FOREST_FORMAT_VERSION = 2;
/** Below this many rows, scoring stays on the calling thread (workers would cost more than they save). */
export const PARALLEL_MIN_ROWS = 50_000;
/** Rows scored between two yields to the event loop in single-threaded async scoring. */
export const ASYNC_SLICE_ROWS = 65_536;

export class NotFittedError extends Error {
  constructor() {
    super('This IsolationForest instance is not fitted yet: call fit() before scoring');
    this.name = 'NotFittedError';
  }
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export interface AsyncScoreOptions {
  /** Worker threads; 0/1 = calling thread (yielding between slices). Default: 2 for >= 50,000 rows. */
  readonly workers?: number;
  /** Rows per inner scoring block (results do not depend on it). */
  readonly chunkRows?: number;
  /** Score each distinct row once (exact; default true, skipped when rows are mostly distinct). */
  readonly foldDuplicates?: boolean;
}

interface Fitted {
  readonly trees: readonly IsolationTreeArrays[];
  readonly nFeatures: number;
  readonly maxSamples: number;
  readonly offset: number;
  readonly packed: PackedForest;
  readonly params: IsolationForestParams;
}

/** Validated, float32-rounded, shared copy of a matrix (or the rows as given when already fit for use). */
export interface Float32Rows {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

export class IsolationForest {
  /** The parameters as given, merged over the defaults; validated at fit. */
  readonly params: IsolationForestParams;
  featureNames: readonly string[] | null = null;
  private fitted: Fitted | null = null;
  private fitWarnings: DetectionWarning[] = [];

  constructor(params: Partial<IsolationForestParams> = {}) {
    this.params = { ...DEFAULT_PARAMS, ...params };
  }

  get isFitted(): boolean {
    return this.fitted !== null;
  }
  /** sklearn's offset_: decision_function = score_samples - offset. */
  get offset(): number {
    return this.need().offset;
  }
  /** The validated parameters of the fitted forest. */
  get fittedParams(): IsolationForestParams {
    return this.need().params;
  }
  /** sklearn's max_samples_. */
  get maxSamples(): number {
    return this.need().maxSamples;
  }
  get nFeatures(): number {
    return this.need().nFeatures;
  }
  get trees(): readonly IsolationTreeArrays[] {
    return this.need().trees;
  }
  /** The packed, shared forest used for scoring (read-only). */
  get packed(): PackedForest {
    return this.need().packed;
  }
  /** Warnings of the last fit, as data (e.g. maxSamples clipped to the row count). */
  get warnings(): readonly DetectionWarning[] {
    return this.fitWarnings;
  }

  /** Fit on X (rows × cols); returns this. */
  fit(X: Matrix): this {
    this.fitRows(toFloat32Rows(X, this.featureNames));
    return this;
  }

  /**
   * Fit on already validated float32 rows. When contamination is a number, the training rows are
   * scored once to set the offset, and those scores are returned; otherwise returns null.
   */
  fitRows(rows: Float32Rows): Float64Array | null {
    this.fitTrees(rows);
    const f = this.need();
    if (f.params.contamination === 'auto') return null;
    const scores = new Float64Array(rows.rows);
    scoreRange(f.packed, rows.data, 0, rows.rows, scores);
    this.setOffsetFromScores(scores);
    return scores;
  }

  /**
   * Grow the trees on validated float32 rows, leaving the offset at -0.5: the caller then sets it
   * from the training scores with setOffsetFromScores (so they are computed once, possibly in workers).
   */
  fitTrees(rows: Float32Rows): void {
    const params = validateParams(this.params);
    const { data, rows: n, cols } = rows;
    if (n < 1) throw new InputError('Found array with 0 sample(s) (shape=(0, ' + cols + ')) while a minimum of 1 is required');
    const warnings: DetectionWarning[] = [];
    const maxSamples = resolveMaxSamples(params.maxSamples, n, warnings);
    const maxFeatures = resolveMaxFeatures(params.maxFeatures, cols);
    const maxDepth = maxDepthFor(maxSamples);
    const master = new Random(params.randomState);
    const trees: IsolationTreeArrays[] = [];
    const all = new Int32Array(cols);
    for (let j = 0; j < cols; j++) all[j] = j;
    for (let t = 0; t < params.nEstimators; t++) {
      const rng = master.fork();
      const features = maxFeatures === cols ? all : sampleWithoutReplacement(rng, cols, maxFeatures);
      const sample = params.bootstrap
        ? sampleWithReplacement(rng, n, maxSamples)
        : sampleWithoutReplacement(rng, n, maxSamples);
      trees.push(growTree(data, cols, sample, features, maxDepth, rng));
    }
    this.fitWarnings = warnings;
    const packed = packForest(trees, cols, maxSamples);
    this.fitted = { trees, nFeatures: cols, maxSamples, offset: -0.5, packed, params };
  }

  /** Offset from training scores: -0.5 for 'auto', else numpy's linear percentile at 100·contamination. */
  setOffsetFromScores(trainingScores: Float64Array): void {
    const f = this.need();
    const c = f.params.contamination;
    let offset = -0.5;
    if (c !== 'auto') {
      // Selects the two scores the percentile reads instead of sorting all of them: same value.
      offset = selectQuantiles(trainingScores, [(100.0 * c) / 100]).quantiles[0];
    }
    this.fitted = { ...f, offset };
  }

  /** sklearn's score_samples: the opposite of the paper's anomaly score; lower = more abnormal. */
  scoreSamples(X: Matrix, options: { chunkRows?: number; foldDuplicates?: boolean } = {}): Float64Array {
    const f = this.need();
    const rows = toFloat32Rows(X, this.featureNames, f.nFeatures, false);
    const chunk = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    const folded = options.foldDuplicates === false ? null : foldDuplicates(rows.data, rows.rows, rows.cols, false);
    if (folded) {
      const u = new Float64Array(folded.uniqueCount);
      scoreRange(f.packed, folded.unique, 0, folded.uniqueCount, u, chunk);
      return unfold(u, folded.index, new Float64Array(rows.rows));
    }
    const out = new Float64Array(rows.rows);
    scoreRange(f.packed, rows.data, 0, rows.rows, out, chunk);
    return out;
  }

  /** Scores of validated float32 rows (see toFloat32Rows), in parallel or yielding between slices. */
  async scoreRowsAsync(rows: Float32Rows, options: AsyncScoreOptions = {}): Promise<Float64Array> {
    const f = this.need();
    if (rows.cols !== f.nFeatures) throw wrongColumns(rows.cols, f.nFeatures);
    const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
    const workers = options.workers ?? (rows.rows >= PARALLEL_MIN_ROWS ? defaultWorkers() : 1);
    const folded = options.foldDuplicates === false ? null : foldDuplicates(rows.data, rows.rows, rows.cols, workers > 1);
    if (folded) {
      const u = await this.scoreRowsAsync(
        { data: folded.unique, rows: folded.uniqueCount, cols: rows.cols },
        { ...options, workers, foldDuplicates: false },
      );
      return unfold(u, folded.index, new Float64Array(rows.rows));
    }
    const n = rows.rows;
    if (workers > 1 && n > 1) {
      const shared = rows.data.buffer instanceof SharedArrayBuffer ? rows.data : toSharedFloat32(rows.data);
      const out = sharedFloat64(n);
      await scoreParallel(f.packed, shared, n, out, Math.min(workers, n), chunkRows);
      return out;
    }
    const out = new Float64Array(n);
    for (let s = 0; s < n; s += ASYNC_SLICE_ROWS) {
      if (s > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      scoreRange(f.packed, rows.data, s, Math.min(n, s + ASYNC_SLICE_ROWS), out, chunkRows);
    }
    return out;
  }

  /** Async scoreSamples: worker threads for large inputs, else chunked with event-loop yields. */
  scoreSamplesAsync(X: Matrix, options: AsyncScoreOptions = {}): Promise<Float64Array> {
    const f = this.need();
    return this.scoreRowsAsync(toFloat32Rows(X, this.featureNames, f.nFeatures, true), options);
  }

  /** score_samples - offset: negative = anomaly. */
  decisionFunction(X: Matrix): Float64Array {
    const s = this.scoreSamples(X);
    const off = this.offset;
    for (let i = 0; i < s.length; i++) s[i] = s[i] - off;
    return s;
  }

  /** -1 for anomalies (decision < 0), +1 for inliers. */
  predict(X: Matrix): Int8Array {
    const d = this.decisionFunction(X);
    const out = new Int8Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = d[i] < 0 ? -1 : 1;
    return out;
  }

  fitPredict(X: Matrix): Int8Array {
    return this.fit(X).predict(X);
  }

  toJSON(): IsolationForestJSON {
    const f = this.need();
    return {
      name: 'IsolationForest',
      version: FOREST_FORMAT_VERSION,
      params: f.params,
      nFeatures: f.nFeatures,
      featureNames: this.featureNames ? [...this.featureNames] : null,
      maxSamples: f.maxSamples,
      offset: f.offset,
      trees: f.trees.map((t) => ({
        left: Array.from(t.left),
        right: Array.from(t.right),
        feature: Array.from(t.feature),
        threshold: Array.from(t.threshold),
        nNodeSamples: Array.from(t.nNodeSamples),
        splitMin: t.splitMin ? Array.from(t.splitMin) : null,
        splitMax: t.splitMax ? Array.from(t.splitMax) : null,
      })),
    };
  }

  /** Validate with zod and rebuild; rejects a wrong name, version, or inconsistent trees. */
  static fromJSON(json: unknown): IsolationForest {
    const parsed = forestJsonSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(`Invalid IsolationForest JSON at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const j = parsed.data;
    if (j.featureNames && j.featureNames.length !== j.nFeatures) {
      throw new InputError(`Invalid IsolationForest JSON: ${j.featureNames.length} feature names for ${j.nFeatures} features`);
    }
    const trees = j.trees.map((t, i) => checkTree(
      {
        left: Int32Array.from(t.left),
        right: Int32Array.from(t.right),
        feature: Int32Array.from(t.feature),
        threshold: Float64Array.from(t.threshold),
        nNodeSamples: Int32Array.from(t.nNodeSamples),
        ...(t.splitMin ? { splitMin: Float64Array.from(t.splitMin) } : {}),
        ...(t.splitMax ? { splitMax: Float64Array.from(t.splitMax) } : {}),
      },
      j.nFeatures,
      `trees.${i}`,
    ));
    const forest = new IsolationForest(j.params as IsolationForestParams);
    forest.featureNames = j.featureNames;
    forest.load(trees, j.nFeatures, j.maxSamples, j.offset, j.params as IsolationForestParams);
    return forest;
  }

  /**
   * Load a forest fitted by scikit-learn (as written by scripts/export-sklearn-fixtures.py): trees'
   * children_left/right, feature (indices into the tree's estimators_features_), threshold,
   * n_node_samples; max_samples_ and offset_.
   */
  static fromSklearn(json: unknown): IsolationForest {
    const j = sklearnSchema.parse(json);
    const trees = j.estimators.map((e, i) => {
      const feats = j.estimators_features[i];
      const feature = Int32Array.from(e.feature, (v) => (v < 0 ? -2 : feats[v]));
      return checkTree(
        {
          left: Int32Array.from(e.children_left),
          right: Int32Array.from(e.children_right),
          feature,
          threshold: Float64Array.from(e.threshold),
          nNodeSamples: Int32Array.from(e.n_node_samples),
        },
        j.n_features_in,
        `estimators.${i}`,
      );
    });
    const params: IsolationForestParams = { ...DEFAULT_PARAMS, nEstimators: trees.length };
    const forest = new IsolationForest(params);
    forest.load(trees, j.n_features_in, j.max_samples_, j.offset_, params);
    return forest;
  }

  private load(trees: IsolationTreeArrays[], nFeatures: number, maxSamples: number, offset: number, params: IsolationForestParams): void {
    const packed = packForest(trees, nFeatures, maxSamples);
    this.fitted = { trees, nFeatures, maxSamples, offset, packed, params };
  }

  private need(): Fitted {
    if (!this.fitted) throw new NotFittedError();
    return this.fitted;
  }
}

function wrongColumns(given: number, expected: number): InputError {
  return new InputError(`X has ${given} features, but IsolationForest is expecting ${expected} features as input`);
}

/** Check the node arrays form one consistent binary tree over `nFeatures` columns. */
export function checkTree(t: IsolationTreeArrays, nFeatures: number, where: string): IsolationTreeArrays {
  const n = t.left.length;
  if (n < 1 || t.right.length !== n || t.feature.length !== n || t.threshold.length !== n || t.nNodeSamples.length !== n) {
    throw new InputError(`Invalid tree at ${where}: node arrays must be non-empty and of equal length`);
  }
  if ((t.splitMin === undefined) !== (t.splitMax === undefined)) {
    throw new InputError(`Invalid tree at ${where}: splitMin and splitMax must be given together`);
  }
  if (t.splitMin && (t.splitMin.length !== n || t.splitMax!.length !== n)) {
    throw new InputError(`Invalid tree at ${where}: node arrays must be non-empty and of equal length`);
  }
  const seen = new Uint8Array(n);
  seen[0] = 1;
  for (let i = 0; i < n; i++) {
    const l = t.left[i];
    const r = t.right[i];
    if (l < 0 || r < 0) {
      if (l !== r || l !== -1) throw new InputError(`Invalid tree at ${where}: node ${i} has one child`);
      continue;
    }
    if (l >= n || r >= n || l <= i || r <= i || seen[l] || seen[r]) {
      throw new InputError(`Invalid tree at ${where}: node ${i} has invalid children ${l}, ${r}`);
    }
    seen[l] = 1;
    seen[r] = 1;
    const f = t.feature[i];
    if (f < 0 || f >= nFeatures) throw new InputError(`Invalid tree at ${where}: node ${i} splits on feature ${f} of ${nFeatures}`);
    if (!Number.isFinite(t.threshold[i])) throw new InputError(`Invalid tree at ${where}: node ${i} has a non-finite threshold`);
    if (t.splitMin && t.splitMax && !(t.splitMin[i] <= t.threshold[i] && t.threshold[i] < t.splitMax[i])) {
      throw new InputError(`Invalid tree at ${where}: node ${i} needs splitMin <= threshold < splitMax`);
    }
  }
  return t;
}

/**
 * Validate a matrix and cast it to float32 (as sklearn's check_array(dtype=float32)): rejects an empty
 * matrix, a wrong column count and non-finite values, naming row and column. `shared` puts the copy on
 * a SharedArrayBuffer for workers.
 */
export function toFloat32Rows(
  X: Matrix,
  featureNames: readonly string[] | null,
  expectedCols?: number,
  shared = false,
): Float32Rows {
  const { rows, cols, data } = X;
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || data.length !== rows * cols) {
    throw new InputError(`Matrix shape ${rows}×${cols} does not match its data length ${data.length}`);
  }
  if (expectedCols !== undefined && cols !== expectedCols) throw wrongColumns(cols, expectedCols);
  if (rows === 0) throw new InputError(`Found array with 0 sample(s) (shape=(0, ${cols})) while a minimum of 1 is required`);
  if (cols === 0) throw new InputError(`Found array with 0 feature(s) (shape=(${rows}, 0)) while a minimum of 1 is required`);
  const out = shared
    ? new Float32Array(new SharedArrayBuffer(data.length * 4))
    : data instanceof Float32Array
      ? data
      : new Float32Array(data.length);
  if (out !== data) out.set(data);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      const r = Math.floor(i / cols);
      const c = i % cols;
      const name = featureNames?.[c] !== undefined ? ` ("${featureNames[c]}")` : '';
      const v = data[i];
      const what = Number.isNaN(v) ? 'NaN' : Number.isFinite(v) ? `${v}, too large for float32` : String(v);
      throw new InputError(`Input contains a non-finite value (${what}) at row ${r}, column ${c}${name}`);
    }
  }
  return { data: out, rows, cols };
}

const intArray = z.array(z.number().int());
const treeSchema = z.object({
  left: intArray,
  right: intArray,
  feature: intArray,
  threshold: z.array(z.number()),
  nNodeSamples: z.array(z.number().int().min(0)),
  splitMin: z.array(z.number()).nullable(),
  splitMax: z.array(z.number()).nullable(),
});

export const forestJsonSchema = z.object({
  name: z.literal('IsolationForest'),
  version: z.literal(FOREST_FORMAT_VERSION),
  params: paramsSchema,
  nFeatures: z.number().int().min(1),
  featureNames: z.array(z.string()).nullable(),
  maxSamples: z.number().int().min(1),
  offset: z.number(),
  trees: z.array(treeSchema).min(1),
});

const sklearnSchema = z.object({
  n_features_in: z.number().int().min(1),
  max_samples_: z.number().int().min(1),
  offset_: z.number(),
  estimators_features: z.array(intArray),
  estimators: z.array(
    z.object({
      children_left: intArray,
      children_right: intArray,
      feature: intArray,
      threshold: z.array(z.number()),
      n_node_samples: intArray,
    }),
  ),
});
