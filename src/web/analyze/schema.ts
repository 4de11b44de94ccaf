/** The /analyze form and API fields (multipart text fields, all optional: config.json gives defaults). */
import { z } from 'zod';
import type { AnalysisParameters } from '../../analysis/types.ts';
import type { Config } from '../../config/index.ts';
import { blankToUndefined } from '../validate.ts';

const COLUMN_NAME = /^[A-Za-z0-9_][A-Za-z0-9_ .\-/()%]{0,99}$/;


export function analyzeBodySchema(defaults: Config['detection']) {
  return z
    .object({
      features: z.preprocess(
        blankToUndefined,
        z
          .string()
          .transform((s) => s.split(',').map((f) => f.trim()).filter((f) => f !== ''))
          .pipe(
            z
              .array(z.string().regex(COLUMN_NAME, 'a column name of letters, digits, _ . - / ( ) % and spaces'))
              .min(1, 'at least one feature column')
              .max(64, 'at most 64 feature columns')
              .refine((f) => new Set(f).size === f.length, 'feature columns must be distinct'),
          )
          .optional(),
      ),
      contamination: z.preprocess(
        blankToUndefined,
        z
          .union([
            z.literal('auto'),
            z.coerce.number({ error: "'auto' or a number in (0, 0.5]" }).gt(0, "'auto' or a number in (0, 0.5]").lte(0.5, "'auto' or a number in (0, 0.5]"),
          ])
          .optional(),
      ),
      n_estimators: z.preprocess(blankToUndefined, z.coerce.number().int('a whole number').min(1).max(1000).optional()),
      random_state: z.preprocess(blankToUndefined, z.coerce.number().int('a whole number').min(0).max(2 ** 32 - 1).optional()),
    })
    .transform(
      (b): AnalysisParameters => ({
        features: b.features ?? [...defaults.features],
        contamination: b.contamination ?? defaults.contamination,
        nEstimators: b.n_estimators ?? defaults.nEstimators,
        randomState: b.random_state ?? defaults.randomState,
      }),
    );
}
