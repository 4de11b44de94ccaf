/** Writes a labelled synthetic traffic CSV into outputs/samples/ (temp name, then renamed). */
import { randomInt } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeTrafficCsv } from '../../generator/index.ts';
import type { Logger } from '../../logging/index.ts';
import type { AnalysisStore } from '../../storage/index.ts';
import type { GenerateInput } from './schema.ts';

export interface GeneratedSample {
  readonly filename: string;
  readonly records: number;
  readonly anomalies: number;
  readonly byType: Readonly<Record<string, number>>;
  readonly seed: number;
  readonly download_url: string;
}

export function sampleDownloadUrl(name: string): string {
  return `/download_sample/${name}`;
}

function metaPath(csvPath: string): string {
  return csvPath.replace(/\.csv$/, '.meta.json');
}

export class GenerateService {
  constructor(private readonly deps: { store: AnalysisStore; logger: Logger }) {}

  async generate(input: GenerateInput): Promise<GeneratedSample> {
    const { store, logger } = this.deps;
    const { name, path: finalPath } = store.newSampleName();
    const tmp = path.join(path.dirname(finalPath), `.tmp-${name}`);
    const started = performance.now();
    // Without a seed each sample differs (as the original's did); the seed used is returned.
    const seed = input.seed ?? randomInt(0, 2 ** 31);
    try {
      const result = await writeTrafficCsv(
        {
          start: input.start_date,
          hours: input.duration,
          seed,
          ...(input.anomaly_share !== undefined ? { anomalyShare: input.anomaly_share } : {}),
        },
        tmp,
      );
      const sample: GeneratedSample = {
        filename: name,
        records: result.records,
        anomalies: result.anomalies,
        byType: { ...result.byType },
        seed,
        download_url: sampleDownloadUrl(name),
      };
      // Both files under temp names first (a crash leaves only .tmp- files, swept at start-up),
      // then the CSV, then its description: a sample is never described before it exists.
      await writeFile(metaPath(tmp), JSON.stringify(sample));
      await rename(tmp, finalPath);
      await rename(metaPath(tmp), metaPath(finalPath));
      logger.info(`generated ${name}: ${result.records} flows, ${result.anomalies} anomalies in ${Math.round(performance.now() - started)}ms`, {
        file: name,
        records: result.records,
        anomalies: result.anomalies,
        hours: input.duration,
      });
      return sample;
    } catch (err) {
      await Promise.all([tmp, metaPath(tmp), finalPath, metaPath(finalPath)].map((p) => rm(p, { force: true }))).catch(() => undefined);
      throw err;
    }
  }

  /** What was generated under `name` (from its side file), or null when unknown. */
  async describe(name: string): Promise<GeneratedSample | null> {
    const p = this.deps.store.samplePath(name);
    if (!p) return null;
    try {
      return JSON.parse(await readFile(metaPath(p), 'utf8')) as GeneratedSample;
    } catch {
      return null;
    }
  }
}
