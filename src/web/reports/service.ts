/**
 * Reads stored analyses for the download, chart and JSON routes. A page of anomalies is read
 * through a line index of anomalies.json (small LRU), not by parsing all of it; results.csv is
 * written from input.csv and rows.bin the first time it is asked for, when the analysis left it lazy.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { AnalysisSummary, AnomalyRow, ChartPoints } from '../../analysis/types.ts';
import { writeScoredDatasetFromRows } from '../../reports/index.ts';
import { jsonLinesIndex, readJsonLinesRange, type AnalysisFile, type AnalysisStore } from '../../storage/index.ts';
import { AppError } from '../errors.ts';

const CACHE_SIZE = 4;
const INDEX_CACHE_SIZE = 32;

export interface AnomalyPage {
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly pageCount: number;
  readonly rows: readonly AnomalyRow[];
}

export class ReportsService {
  private readonly anomalyCache = new Map<string, readonly AnomalyRow[]>();
  private readonly indexCache = new Map<string, Float64Array | null>();
  /** results.csv files being written, by analysis id (one writer per file in this process). */
  private readonly building = new Map<string, Promise<void>>();

  constructor(private readonly store: AnalysisStore) {}

  /** The summary, or a 404 AppError. */
  async summary(id: string): Promise<AnalysisSummary> {
    const summary = await this.store.readSummary(id);
    if (!summary) throw new AppError(404, `No analysis with id ${id}.`);
    return summary;
  }

  /** Absolute path of an existing artifact, or a 404 AppError. */
  async file(id: string, file: AnalysisFile): Promise<string> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    const p = this.store.filePath(id, file);
    if (!existsSync(p)) throw new AppError(404, `Analysis ${id} has no ${file}.`);
    return p;
  }

  /** Path of results.csv, writing it first from input.csv and rows.bin when the analysis left it for later. */
  async resultsFile(id: string): Promise<string> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    const out = this.store.filePath(id, 'results.csv');
    if (existsSync(out)) return out;
    const rowsPath = this.store.filePath(id, 'rows.bin');
    if (!existsSync(rowsPath)) throw new AppError(404, `Analysis ${id} has no results.csv.`);
    let pending = this.building.get(id);
    if (!pending) {
      pending = writeScoredDatasetFromRows({
        sourcePath: this.store.filePath(id, 'input.csv'),
        rowsPath,
        outPath: out,
        // Its own temp name: another process may be writing the same file.
        tmpPath: `${out}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
      }).finally(() => this.building.delete(id));
      this.building.set(id, pending);
    }
    await pending;
    return out;
  }

  async points(id: string): Promise<ChartPoints> {
    const points = await this.store.readJson<ChartPoints>(id, 'points.json');
    if (!points) throw new AppError(404, `No analysis with id ${id}.`);
    return points;
  }

  async anomalies(id: string): Promise<readonly AnomalyRow[]> {
    const cached = this.anomalyCache.get(id);
    if (cached) {
      this.anomalyCache.delete(id);
      this.anomalyCache.set(id, cached);
      return cached;
    }
    const rows = await this.store.readJson<AnomalyRow[]>(id, 'anomalies.json');
    if (!rows) throw new AppError(404, `No analysis with id ${id}.`);
    this.anomalyCache.set(id, rows);
    while (this.anomalyCache.size > CACHE_SIZE) this.anomalyCache.delete(this.anomalyCache.keys().next().value!);
    return rows;
  }

  /** The line index of anomalies.json (null for a file in one line, from before the index), cached. */
  private async anomalyIndex(id: string): Promise<Float64Array | null> {
    if (this.indexCache.has(id)) {
      const cached = this.indexCache.get(id)!;
      this.indexCache.delete(id);
      this.indexCache.set(id, cached);
      return cached;
    }
    let index: Float64Array | null;
    try {
      index = await jsonLinesIndex(this.store.filePath(id, 'anomalies.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError(404, `No analysis with id ${id}.`);
      throw err;
    }
    this.indexCache.set(id, index);
    while (this.indexCache.size > INDEX_CACHE_SIZE) this.indexCache.delete(this.indexCache.keys().next().value!);
    return index;
  }

  /** One page of anomalies, most severe first; a page past the end gives the last page. */
  async anomalyPage(id: string, page: number, pageSize: number): Promise<AnomalyPage> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    const index = await this.anomalyIndex(id);
    if (index) {
      const total = index.length - 1;
      const pageCount = Math.max(1, Math.ceil(total / pageSize));
      const p = Math.min(Math.max(1, page), pageCount);
      const rows = await readJsonLinesRange<AnomalyRow>(this.store.filePath(id, 'anomalies.json'), index, (p - 1) * pageSize, p * pageSize);
      return { total, page: p, pageSize, pageCount, rows };
    }
    const all = await this.anomalies(id);
    const pageCount = Math.max(1, Math.ceil(all.length / pageSize));
    const p = Math.min(Math.max(1, page), pageCount);
    return { total: all.length, page: p, pageSize, pageCount, rows: all.slice((p - 1) * pageSize, p * pageSize) };
  }
}
