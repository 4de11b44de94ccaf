/**
 * Configuration: config.json plus environment overrides, parsed once by a strict zod schema into a
 * frozen, typed object that is passed to whoever needs it. Nothing here reads process.env on its
 * own: the caller passes the environment in (server.ts passes process.env; tests pass a literal).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const LOG_LEVELS = ['silent', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type NodeEnv = 'development' | 'production' | 'test';

const hexColor = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/, 'a #rgb or #rrggbb colour');
const figsize = z.tuple([z.number().positive().max(100), z.number().positive().max(100)]);

const contamination = z.union([z.literal('auto'), z.number().gt(0).lte(0.5)]);

/** The file's schema: the original project's keys plus server / paths / logging. Unknown keys are rejected. */
export const configFileSchema = z.strictObject({
  features: z.array(z.string().min(1)).min(1).refine((f) => new Set(f).size === f.length, 'features must be distinct'),
  contamination,
  n_estimators: z.number().int().min(1).max(1000),
  random_state: z.number().int().min(0).max(2 ** 32 - 1),
  visualization: z.strictObject({
    scatter_plot: z.strictObject({
      figsize,
      alpha: z.number().gt(0).lte(1),
      colors: z.union([
        z.strictObject({ normal: hexColor, anomaly: hexColor }),
        z.tuple([hexColor, hexColor]),
      ]),
    }),
    distribution_plot: z.strictObject({
      figsize,
      bins: z.number().int().min(2).max(500),
    }),
  }),
  server: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(5000),
      host: z.string().min(1).default('0.0.0.0'),
      workers: z.number().int().min(1).max(64).default(1),
      max_upload_mb: z.number().positive().max(16384).default(512),
      max_queue: z.number().int().min(0).max(1000).default(8),
    })
    .prefault({}),
  paths: z
    .strictObject({
      uploads: z.string().min(1).default('uploads'),
      outputs: z.string().min(1).default('outputs'),
      logs: z.string().min(1).default('logs'),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(LOG_LEVELS).default('info'),
      /** Write logs/app.log and logs/error.log (console only when false). */
      files: z.boolean().default(true),
    })
    .prefault({}),
});

export type ConfigFile = z.infer<typeof configFileSchema>;

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).optional(),
  HOST: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(LOG_LEVELS).optional(),
  WORKERS: z.coerce.number().int().min(1).max(64).optional(),
  NODE_ENV: z.enum(['development', 'production', 'test']).optional(),
  CONFIG: z.string().min(1).optional(),
});

export interface Config {
  readonly env: NodeEnv;
  /** Absolute path of the file that was read. */
  readonly configPath: string;
  readonly detection: {
    readonly features: readonly string[];
    readonly contamination: 'auto' | number;
    readonly nEstimators: number;
    readonly randomState: number;
  };
  /** Structurally the charts module's ChartSettings (figsize in inches, 100 px per inch). */
  readonly charts: {
    readonly scatter: {
      readonly figsize: [number, number];
      readonly alpha: number;
      readonly colors: { readonly normal: string; readonly anomaly: string };
    };
    readonly distribution: { readonly figsize: [number, number]; readonly bins: number };
  };
  readonly server: {
    readonly port: number;
    readonly host: string;
    readonly workers: number;
    readonly maxUploadBytes: number;
    readonly maxUploadMb: number;
    /** Analyses allowed to wait behind the running one before /analyze answers 503. */
    readonly maxQueue: number;
  };
  /** Absolute paths. */
  readonly paths: { readonly uploads: string; readonly outputs: string; readonly logs: string };
  readonly logging: { readonly level: LogLevel; readonly files: boolean };
}

/** A configuration problem; the message names the key (e.g. `visualization.scatter_plot.alpha`). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

function issuesOf(error: z.ZodError, prefix = ''): { path: string; message: string }[] {
  return error.issues.map((issue) => {
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
    const keyPath = issue.path.map(String).join('.');
    return { path: prefix + (keyPath || '(root)'), message };
  });
}

function fail(source: string, issues: { path: string; message: string }[]): never {
  const lines = issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n');
  throw new ConfigError(`Invalid configuration in ${source}:\n${lines}`, issues);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  /** Environment to read overrides from (server.ts passes process.env). Default: none. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Config file; default env.CONFIG, else `config.json` in `cwd`. */
  readonly path?: string;
  /** Base for a relative config path. Default process.cwd(). */
  readonly cwd?: string;
  /** Overrides applied over the file before validation (tests, CLI). Deep-merged. */
  readonly overrides?: Record<string, unknown>;
}

function merge(base: unknown, over: unknown): unknown {
  if (over && typeof over === 'object' && !Array.isArray(over) && base && typeof base === 'object' && !Array.isArray(base)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
    return out;
  }
  return over === undefined ? base : over;
}

/** Reads, validates and freezes the configuration. Throws ConfigError naming the bad key. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const rawEnv = options.env ?? {};
  const envParsed = envSchema.safeParse(
    Object.fromEntries(Object.entries(rawEnv).filter(([k, v]) => k in envSchema.shape && v !== undefined && v !== '')),
  );
  if (!envParsed.success) fail('the environment', issuesOf(envParsed.error));
  const env = envParsed.data;

  const cwd = options.cwd ?? process.cwd();
  const configPath = path.resolve(cwd, options.path ?? env.CONFIG ?? 'config.json');
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read configuration file ${configPath}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`Configuration file ${configPath} is not valid JSON: ${(err as Error).message}`);
  }
  if (options.overrides) json = merge(json, options.overrides);

  const parsed = configFileSchema.safeParse(json);
  if (!parsed.success) fail(configPath, issuesOf(parsed.error));
  const file = parsed.data;

  const colors = Array.isArray(file.visualization.scatter_plot.colors)
    ? { normal: file.visualization.scatter_plot.colors[0], anomaly: file.visualization.scatter_plot.colors[1] }
    : file.visualization.scatter_plot.colors;
  const base = path.dirname(configPath);
  const maxUploadMb = file.server.max_upload_mb;

  const config: Config = {
    env: env.NODE_ENV ?? 'development',
    configPath,
    detection: {
      features: [...file.features],
      contamination: file.contamination,
      nEstimators: file.n_estimators,
      randomState: file.random_state,
    },
    charts: {
      scatter: {
        figsize: [file.visualization.scatter_plot.figsize[0], file.visualization.scatter_plot.figsize[1]],
        alpha: file.visualization.scatter_plot.alpha,
        colors: { normal: colors.normal, anomaly: colors.anomaly },
      },
      distribution: {
        figsize: [file.visualization.distribution_plot.figsize[0], file.visualization.distribution_plot.figsize[1]],
        bins: file.visualization.distribution_plot.bins,
      },
    },
    server: {
      port: env.PORT ?? file.server.port,
      host: env.HOST ?? file.server.host,
      workers: env.WORKERS ?? file.server.workers,
      maxUploadMb,
      maxUploadBytes: Math.floor(maxUploadMb * 1024 * 1024),
      maxQueue: file.server.max_queue,
    },
    paths: {
      uploads: path.resolve(base, file.paths.uploads),
      outputs: path.resolve(base, file.paths.outputs),
      logs: path.resolve(base, file.paths.logs),
    },
    logging: { level: env.LOG_LEVEL ?? file.logging.level, files: file.logging.files },
  };
  return deepFreeze(config);
}
