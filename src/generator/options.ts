import { z } from 'zod';

/** Options of the traffic generator. `hours` is any positive number here; the web form narrows it to 1..168. */
export interface GeneratorOptions {
  readonly start: Date;
  readonly hours: number;
  readonly seed?: number;
  readonly anomalyShare?: number;
  readonly flowsPerHour?: number;
  readonly rows?: number;
}

export const DEFAULTS = { seed: 42, anomalyShare: 0.05, flowsPerHour: 500 } as const;

/** Hard ceiling on generated rows (memory: ~80 bytes per row while generating). */
export const MAX_ROWS = 20_000_000;

export const generatorOptionsSchema = z
  .object({
    start: z.date().refine((d) => Number.isFinite(d.getTime()), { message: 'start must be a valid date' }),
    hours: z.number().positive({ message: 'hours must be greater than 0' }).max(24 * 366 * 10),
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    anomalyShare: z.number().min(0).max(0.5).optional(),
    flowsPerHour: z.number().int().min(1).max(10_000_000).optional(),
    rows: z.number().int().min(1).max(MAX_ROWS).optional(),
  })
  .strict()
  .refine((o) => o.rows === undefined || o.flowsPerHour === undefined, {
    message: 'give either rows or flowsPerHour, not both',
  });

export interface ResolvedOptions {
  readonly startMs: number;
  readonly endMs: number;
  readonly seed: number;
  readonly anomalyShare: number;
  readonly rows: number;
}

export function resolveOptions(opts: GeneratorOptions): ResolvedOptions {
  const o = generatorOptionsSchema.parse(opts);
  const startMs = Math.floor(o.start.getTime() / 1000) * 1000;
  const endMs = startMs + Math.max(1000, Math.round(o.hours * 3600) * 1000);
  const rows = o.rows ?? Math.max(1, Math.round((o.flowsPerHour ?? DEFAULTS.flowsPerHour) * o.hours));
  if (rows > MAX_ROWS) throw new RangeError(`at most ${MAX_ROWS} rows can be generated; asked for ${rows}`);
  return {
    startMs,
    endMs,
    seed: o.seed ?? DEFAULTS.seed,
    anomalyShare: o.anomalyShare ?? DEFAULTS.anomalyShare,
    rows,
  };
}
