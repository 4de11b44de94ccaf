import { z } from 'zod';
import { ANALYSIS_ID_PATTERN, INCIDENT_ID_PATTERN } from '../../analysis/types.ts';
import { CHART_KINDS } from '../../charts/index.ts';
import { blankToUndefined } from '../validate.ts';

export const PAGE_SIZES = [25, 50, 100] as const;

export const idParams = z.object({ id: z.string().regex(ANALYSIS_ID_PATTERN, 'an analysis id (YYYYMMDD_HHMMSS_xxxxxx)') });
const incidentId = z.string().regex(INCIDENT_ID_PATTERN, 'an incident id (INC-001)');
export const incidentParams = idParams.extend({ incidentId });
export const chartParams = idParams.extend({ kind: z.enum(CHART_KINDS) });

export const pageQuery = z.object({
  page: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(1_000_000).default(1)),
  size: z.preprocess(
    blankToUndefined,
    z.coerce
      .number()
      .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), 'one of 25, 50, 100')
      .default(25),
  ),
  /** Only the anomalies of this incident. */
  incident: z.preprocess(blankToUndefined, incidentId.optional()),
});

export type IdParams = z.infer<typeof idParams>;
export type IncidentParams = z.infer<typeof incidentParams>;
export type ChartParams = z.infer<typeof chartParams>;
export type PageQuery = z.infer<typeof pageQuery>;
