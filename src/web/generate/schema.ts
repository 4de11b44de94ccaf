/** POST /generate_data input (JSON or urlencoded form). */
import { z } from 'zod';
import { blankToUndefined } from '../validate.ts';


/** 'YYYY-MM-DD', 'YYYY-MM-DDTHH:mm[:ss][Z|±hh:mm]' (no zone = UTC). */
const START = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

export const generateBodySchema = z.object({
  start_date: z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'a date such as 2024-01-15 or 2024-01-15T08:00' })
      .regex(START, 'a date such as 2024-01-15 or 2024-01-15T08:00')
      .transform((s, ctx) => {
        const iso = s.replace(' ', 'T');
        const hasZone = /(?:Z|[+-]\d{2}:\d{2})$/.test(iso);
        const date = new Date(iso.length === 10 ? `${iso}T00:00:00Z` : hasZone ? iso : `${iso}Z`);
        const year = date.getUTCFullYear();
        if (Number.isNaN(date.getTime()) || year < 1970 || year > 2100 || date.toISOString().slice(0, 10) !== iso.slice(0, 10) && !hasZone) {
          ctx.addIssue({ code: 'custom', message: 'a real calendar date between 1970 and 2100' });
          return z.NEVER;
        }
        return date;
      }),
  ),
  duration: z.preprocess(blankToUndefined, z.coerce.number({ error: 'hours, a whole number from 1 to 168' }).int('hours, a whole number from 1 to 168').min(1, 'at least 1 hour').max(168, 'at most 168 hours (one week)')),
  seed: z.preprocess(blankToUndefined, z.coerce.number().int('a whole number').min(0).max(2 ** 32 - 1).optional()),
  anomaly_share: z.preprocess(blankToUndefined, z.coerce.number().min(0).max(0.5, 'at most 0.5').optional()),
});

export type GenerateInput = z.infer<typeof generateBodySchema>;
