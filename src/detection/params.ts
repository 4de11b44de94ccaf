/** Isolation Forest parameters: defaults, the one zod schema, and sklearn's resolution rules. */
import { z } from 'zod';
import type { DetectionWarning, IsolationForestParams, MaxFeatures, MaxSamples } from './types.ts';

export const DEFAULT_PARAMS: IsolationForestParams = Object.freeze({
  nEstimators: 100,
  maxSamples: 'auto',
  contamination: 'auto',
  maxFeatures: Object.freeze({ fraction: 1 }),
  bootstrap: false,
  randomState: 0,
});

/** What each parameter allows, in words, for error messages. */
const ALLOWED: Record<keyof IsolationForestParams, string> = {
  nEstimators: 'an integer in [1, 10000]',
  maxSamples: "'auto', { count: integer >= 1 } or { fraction: number in (0, 1] }",
  contamination: "'auto' or a number in (0, 0.5]",
  maxFeatures: '{ count: integer >= 1 } or { fraction: number in (0, 1] }',
  bootstrap: 'true or false',
  randomState: 'an integer in [0, 2^53 - 1]',
};

const count = z.strictObject({ count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const fraction = z.strictObject({ fraction: z.number().gt(0).lte(1) });

export const paramsSchema = z.strictObject({
  nEstimators: z.number().int().min(1).max(10000),
  maxSamples: z.union([z.literal('auto'), count, fraction]),
  contamination: z.union([z.literal('auto'), z.number().gt(0).lte(0.5)]),
  maxFeatures: z.union([count, fraction]),
  bootstrap: z.boolean(),
  randomState: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

export class ParameterError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(message);
    this.name = 'ParameterError';
    this.param = param;
  }
}

/** Merge over the defaults and validate once; throws ParameterError naming param, allowed and given. */
export function validateParams(params: Partial<IsolationForestParams> | undefined): IsolationForestParams {
  const merged = { ...DEFAULT_PARAMS, ...(params ?? {}) } as Record<string, unknown>;
  for (const key of Object.keys(merged)) {
    if (merged[key] === undefined) merged[key] = (DEFAULT_PARAMS as unknown as Record<string, unknown>)[key];
  }
  const parsed = paramsSchema.safeParse(merged);
  if (parsed.success) return parsed.data as IsolationForestParams;
  const issue = parsed.error.issues[0];
  const key = issue.code === 'unrecognized_keys' ? String(issue.keys[0]) : String(issue.path[0] ?? '');
  const allowed = (ALLOWED as Record<string, string>)[key];
  if (allowed === undefined) {
    throw new ParameterError(key, `Unknown parameter "${key}": allowed parameters are ${Object.keys(ALLOWED).join(', ')}`);
  }
  throw new ParameterError(key, `Invalid parameter ${key}: allowed ${allowed}, given ${describe(merged[key])}`);
}

function describe(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** sklearn's `max_samples_`: 'auto' → min(256, n); count > n → n (with a warning); fraction → floor(f n). */
export function resolveMaxSamples(maxSamples: MaxSamples, n: number, warnings: DetectionWarning[]): number {
  if (maxSamples === 'auto') return Math.min(256, n);
  if ('count' in maxSamples) {
    if (maxSamples.count > n) {
      warnings.push({
        code: 'max-samples-clipped',
        message: `maxSamples (${maxSamples.count}) is greater than the total number of samples (${n}); maxSamples will be set to ${n}`,
      });
      return n;
    }
    return maxSamples.count;
  }
  const m = Math.floor(maxSamples.fraction * n);
  if (m < 1) {
    throw new ParameterError('maxSamples', `Invalid parameter maxSamples: fraction ${maxSamples.fraction} of ${n} rows is less than one row`);
  }
  return m;
}

/** sklearn's `_max_features`: count (must be <= columns) or max(1, floor(f cols)). */
export function resolveMaxFeatures(maxFeatures: MaxFeatures, cols: number): number {
  if ('count' in maxFeatures) {
    if (maxFeatures.count > cols) {
      throw new ParameterError(
        'maxFeatures',
        `Invalid parameter maxFeatures: allowed a count <= the number of columns (${cols}), given ${maxFeatures.count}`,
      );
    }
    return maxFeatures.count;
  }
  return Math.max(1, Math.floor(maxFeatures.fraction * cols));
}
