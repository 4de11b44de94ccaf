/**
 * Generate labelled synthetic flow traffic as CSV.
 *   npm run generate -- --start 2024-01-01T00:00:00Z --hours 24 --out file.csv [--seed N]
 *                       [--anomaly-share 0.05] [--flows-per-hour N | --rows N]
 * Exit codes: 0 done, 1 failed while writing, 2 bad arguments.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ZodError } from 'zod';
import { generatorOptionsSchema, writeTrafficCsv } from '../src/generator/index.ts';
import type { GeneratorOptions } from '../src/generator/index.ts';

export const USAGE = `Usage: npm run generate -- --start <ISO date> --hours <n> --out <file.csv> [options]

Writes labelled synthetic network flows (CSV, our schema) with attack episodes:
ddos, data_exfiltration, port_scan, brute_force, beaconing.

Required:
  --start <date>          start of the window, ISO 8601 (e.g. 2024-01-01T00:00:00Z)
  --hours <n>             length of the window in hours (> 0)
  --out <file>            output CSV path (written to <file>.tmp, then renamed)
Options:
  --seed <n>              PRNG seed, integer 0..4294967295 (default 42): same seed, same bytes
  --anomaly-share <x>     share of attack rows, 0..0.5 (default 0.05)
  --flows-per-hour <n>    rows per hour (default 500)
  --rows <n>              total rows instead of --flows-per-hour
  --help                  this text`;

export class UsageError extends Error {}

function numberArg(name: string, text: string | undefined, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}; got '${text}'`);
  }
  return v;
}

/** Parses CLI arguments into generator options and an output path; throws UsageError when they are wrong. */
export function parseGenerateArgs(argv: readonly string[]): { help: true } | { help: false; options: GeneratorOptions; out: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        start: { type: 'string' },
        hours: { type: 'string' },
        out: { type: 'string' },
        seed: { type: 'string' },
        'anomaly-share': { type: 'string' },
        'flows-per-hour': { type: 'string' },
        rows: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return { help: true };
  if (values.start === undefined) throw new UsageError('--start is required (ISO 8601 date, e.g. 2024-01-01T00:00:00Z)');
  if (values.hours === undefined) throw new UsageError('--hours is required');
  if (values.out === undefined || values.out.trim() === '') throw new UsageError('--out is required');
  const start = new Date(values.start);
  if (!Number.isFinite(start.getTime())) throw new UsageError(`--start is not a valid date: '${values.start}'`);
  const candidate = {
    start,
    hours: numberArg('hours', values.hours, false)!,
    seed: numberArg('seed', values.seed, true),
    anomalyShare: numberArg('anomaly-share', values['anomaly-share'], false),
    flowsPerHour: numberArg('flows-per-hour', values['flows-per-hour'], true),
    rows: numberArg('rows', values.rows, true),
  };
  const options = Object.fromEntries(Object.entries(candidate).filter(([, v]) => v !== undefined)) as unknown as GeneratorOptions;
  try {
    generatorOptionsSchema.parse(options);
  } catch (err) {
    if (err instanceof ZodError) {
      const names: Record<string, string> = { anomalyShare: 'anomaly-share', flowsPerHour: 'flows-per-hour' };
      const msg = err.issues
        .map((i) => (i.path.length > 0 ? `--${names[String(i.path[0])] ?? String(i.path[0])}: ${i.message}` : i.message))
        .join('; ');
      throw new UsageError(msg);
    }
    throw err;
  }
  return { help: false, options, out: resolve(values.out) };
}

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseGenerateArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`generate: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const t0 = performance.now();
  const summary = await writeTrafficCsv(parsed.options, parsed.out);
  const seconds = (performance.now() - t0) / 1000;
  const lines = [
    `wrote ${summary.records} flows to ${parsed.out} in ${seconds.toFixed(2)} s`,
    `anomalies: ${summary.anomalies} (${((100 * summary.anomalies) / Math.max(1, summary.records)).toFixed(2)} %)`,
    ...Object.entries(summary.byType).map(([type, n]) => `  ${type.padEnd(18)} ${n}`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('scripts/generate.ts')) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`generate: failed: ${(err as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
