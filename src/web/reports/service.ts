/** Reads stored analyses for the download, chart and JSON routes (anomaly lists cached, small LRU). */
import { existsSync } from 'node:fs';
import type { AnalysisSummary, AnomalyRow, ChartPoints } from '../../analysis/types.ts';
import type { AnalysisFile, AnalysisStore } from '../../storage/index.ts';
import { AppError } from '../errors.ts';

const CACHE_SIZE = 4;

export interface AnomalyPage {
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly pageCount: number;
  readonly rows: readonly AnomalyRow[];
}

export class ReportsService {
  private readonly anomalyCache = new Map<string, readonly AnomalyRow[]>();

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

  /** One page of anomalies, most severe first; a page past the end gives the last page. */
  async anomalyPage(id: string, page: number, pageSize: number): Promise<AnomalyPage> {
    const all = await this.anomalies(id);
    const pageCount = Math.max(1, Math.ceil(all.length / pageSize));
    const p = Math.min(Math.max(1, page), pageCount);
    return { total: all.length, page: p, pageSize, pageCount, rows: all.slice((p - 1) * pageSize, p * pageSize) };
  }
}
