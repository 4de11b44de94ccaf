/**
 * Reads stored analyses for the download, chart and JSON routes. A page of anomalies is decoded
 * from anomalies.bin (small LRU of read files), only its own rows; analyses from before it have
 * anomalies.json, read through its line index, not by parsing all of it. results.csv is
 * written from input.csv and rows.bin the first time it is asked for, when the analysis left it lazy.
 * An incident's CSV is streamed from input.csv and incidents.bin (incidents.json for older
 * analyses); the anomalies of one incident are found through its positions in the anomaly table. Chart PNGs an analysis deferred are
 * drawn from its stored chart data the first time they are asked for (one drawing per chart in this
 * process; another process drawing the same chart writes the same bytes under its own temp name).
 */
import { randomBytes } from 'node:crypto';
import { access, readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { AnalysisSummary, AnomalyRow, ChartPoints } from '../../analysis/types.ts';
import { CHART_KINDS, type ChartInputs, type ChartKind, parseChartInputs, renderStoredChart } from '../../charts/index.ts';
import { AnomalyRowsFile, decodeIncidentsBin, incidentReportChunks, type IncidentFlowsEntry, type IncidentsFile, parseIncidentsFile, writeScoredDatasetFromRows } from '../../reports/index.ts';
import { jsonLinesIndex, readJsonLinesRange, type AnalysisFile, type AnalysisStore } from '../../storage/index.ts';
import { AppError } from '../errors.ts';

/** Whole anomalies.json files of old analyses (in one line) kept parsed. */
const ANOMALIES_CACHE_SIZE = 4;
/** Summaries kept parsed (a few hundred KB each). */
const SUMMARY_CACHE_SIZE = 32;
const INDEX_CACHE_SIZE = 32;
const INCIDENTS_CACHE_SIZE = 4;
/** anomalies.bin files kept read (~0.9 KB per anomaly: 45 MB for 50,000). */
const ANOMALY_FILES_CACHE_SIZE = 2;

export interface AnomalyPage {
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly pageCount: number;
  readonly rows: readonly AnomalyRow[];
  /** The incident the rows were filtered to, or null for all anomalies. */
  readonly incident: string | null;
}

/** The rows of an analysis's anomaly table (AnomalyRowsFile, or a reader of the older anomalies.json). */
type AnomalyTable = Pick<AnomalyRowsFile, 'count'> & {
  /** Rows [from, to). */
  rows(from: number, to: number): readonly AnomalyRow[] | Promise<readonly AnomalyRow[]>;
  /** The rows at these positions, in this order. */
  rowsAt(positions: ArrayLike<number>): readonly AnomalyRow[] | Promise<readonly AnomalyRow[]>;
};

/** Touches `key` in a Map used as an LRU, or undefined when it is not there. */
function lruGet<V>(cache: Map<string, V>, key: string): V | undefined {
  if (!cache.has(key)) return undefined;
  const value = cache.get(key)!;
  cache.delete(key);
  cache.set(key, value);
  return value;
}

function lruSet<V>(cache: Map<string, V>, key: string, value: V, max: number): void {
  cache.set(key, value);
  while (cache.size > max) cache.delete(cache.keys().next().value!);
}

/** True when `p` exists (checked without blocking the event loop). */
async function isFile(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** Page `page` (clamped to 1..pageCount) of `total` anomalies, its rows [from, to) from `rowsOf`. */
async function pageResult(
  total: number,
  page: number,
  pageSize: number,
  incident: string | null,
  rowsOf: (from: number, to: number) => readonly AnomalyRow[] | Promise<readonly AnomalyRow[]>,
): Promise<AnomalyPage> {
  const pageCount = Math.max(1, Math.ceil(total / pageSize));
  const p = Math.min(Math.max(1, page), pageCount);
  const rows = await rowsOf((p - 1) * pageSize, Math.min(total, p * pageSize));
  return { total, page: p, pageSize, pageCount, rows, incident };
}

export class ReportsService {
  private readonly summaryCache = new Map<string, AnalysisSummary>();
  private readonly anomalyCache = new Map<string, readonly AnomalyRow[]>();
  private readonly indexCache = new Map<string, Float64Array | null>();
  private readonly incidentsCache = new Map<string, IncidentsFile | null>();
  private readonly anomalyFiles = new Map<string, AnomalyRowsFile | null>();
  /** results.csv files being written, by analysis id (one writer per file in this process). */
  private readonly building = new Map<string, Promise<void>>();
  /** Chart PNGs being drawn, by `<id>/<kind>`. */
  private readonly drawing = new Map<string, Promise<void>>();
  /** drawCharts calls under way. */
  private readonly background = new Set<Promise<void>>();

  constructor(private readonly store: AnalysisStore) {}

  /** The summary, or a 404 AppError. */
  async summary(id: string): Promise<AnalysisSummary> {
    // An analysis never changes once committed, so its summary is read and parsed once.
    const cached = lruGet(this.summaryCache, id);
    if (cached) return cached;
    const summary = await this.store.readSummary(id);
    if (!summary) throw new AppError(404, `No analysis with id ${id}.`);
    lruSet(this.summaryCache, id, summary, SUMMARY_CACHE_SIZE);
    return summary;
  }

  /** Absolute path of an existing artifact, or a 404 AppError. */
  async file(id: string, file: AnalysisFile): Promise<string> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    const p = this.store.filePath(id, file);
    if (!(await isFile(p))) throw new AppError(404, `Analysis ${id} has no ${file}.`);
    return p;
  }

  /** Path of results.csv, writing it first from input.csv and rows.bin when the analysis left it for later. */
  async resultsFile(id: string): Promise<string> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    const out = this.store.filePath(id, 'results.csv');
    if (await isFile(out)) return out;
    const rowsPath = this.store.filePath(id, 'rows.bin');
    if (!(await isFile(rowsPath))) throw new AppError(404, `Analysis ${id} has no results.csv.`);
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

  /** Path of a chart PNG, drawing it first when the analysis left it to be drawn when asked for. */
  async chart(id: string, kind: ChartKind): Promise<string> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    const out = this.store.filePath(id, `${kind}.png`);
    if (await isFile(out)) return out;
    const key = `${id}/${kind}`;
    let pending = this.drawing.get(key);
    if (!pending) {
      pending = this.drawChart(id, kind, out).finally(() => this.drawing.delete(key));
      this.drawing.set(key, pending);
    }
    await pending;
    return out;
  }

  /** Resolves when every chart and results.csv being written now is done (failed ones too). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.background, ...this.drawing.values(), ...this.building.values()]);
  }

  /** Draws every chart of an analysis that is not drawn yet (after an analysis answers). */
  drawCharts(id: string): Promise<void> {
    const task = (async () => {
      for (const kind of CHART_KINDS) await this.chart(id, kind);
    })();
    const tracked = task.finally(() => this.background.delete(tracked));
    tracked.catch(() => undefined); // the caller observes `task`
    this.background.add(tracked);
    return task;
  }

  private async drawChart(id: string, kind: ChartKind, out: string): Promise<void> {
    let inputs: ChartInputs;
    try {
      inputs = parseChartInputs(await readFile(this.store.filePath(id, 'charts.json'), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError(404, `Analysis ${id} has no ${kind} chart.`);
      throw err;
    }
    const png = await renderStoredChart(kind, {
      inputs,
      points: async () => JSON.parse(await readFile(this.store.filePath(id, 'points.json'), 'utf8')) as ChartPoints,
      timeline: async () => {
        const summary = await this.summary(id);
        return { time: summary.time, incidents: summary.incidents };
      },
    });
    const tmp = `${out}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, png);
      await rename(tmp, out);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Every row of an analysis's anomalies.json (analyses from before anomalies.bin, in one line), cached. */
  async anomalies(id: string): Promise<readonly AnomalyRow[]> {
    const cached = lruGet(this.anomalyCache, id);
    if (cached) return cached;
    const rows = await this.store.readJson<AnomalyRow[]>(id, 'anomalies.json');
    if (!rows) throw new AppError(404, `No analysis with id ${id}.`);
    lruSet(this.anomalyCache, id, rows, ANOMALIES_CACHE_SIZE);
    return rows;
  }

  /** anomalies.bin, read and cached; null for an analysis from before it (it has anomalies.json). */
  private async anomalyFile(id: string): Promise<AnomalyRowsFile | null> {
    const cached = lruGet(this.anomalyFiles, id);
    if (cached !== undefined) return cached;
    let file: AnomalyRowsFile | null;
    try {
      file = await AnomalyRowsFile.read(this.store.filePath(id, 'anomalies.bin'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      file = null;
    }
    lruSet(this.anomalyFiles, id, file, ANOMALY_FILES_CACHE_SIZE);
    return file;
  }

  /** The line index of anomalies.json (null for a file in one line, from before the index), cached. */
  private async anomalyIndex(id: string): Promise<Float64Array | null> {
    const cached = lruGet(this.indexCache, id);
    if (cached !== undefined) return cached;
    let index: Float64Array | null;
    try {
      index = await jsonLinesIndex(this.store.filePath(id, 'anomalies.json'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError(404, `No analysis with id ${id}.`);
      throw err;
    }
    lruSet(this.indexCache, id, index, INDEX_CACHE_SIZE);
    return index;
  }

  /**
   * An analysis's anomaly table, most severe first, however it was stored: anomalies.bin, or the
   * anomalies.json of older analyses (through its line index, or whole when it is in one line).
   */
  private async anomalyTable(id: string): Promise<AnomalyTable> {
    const file = await this.anomalyFile(id);
    if (file !== null) return file;
    const index = await this.anomalyIndex(id);
    if (index) {
      const path = this.store.filePath(id, 'anomalies.json');
      return {
        count: index.length - 1,
        rows: (from, to) => readJsonLinesRange<AnomalyRow>(path, index, from, to),
        async rowsAt(positions) {
          // Read a run of neighbours at a time.
          const rows: AnomalyRow[] = [];
          for (let k = 0; k < positions.length; ) {
            let end = k + 1;
            while (end < positions.length && positions[end] === positions[end - 1] + 1) end++;
            rows.push(...(await readJsonLinesRange<AnomalyRow>(path, index, positions[k], positions[end - 1] + 1)));
            k = end;
          }
          return rows;
        },
      };
    }
    const all = await this.anomalies(id);
    return { count: all.length, rows: (from, to) => all.slice(from, to), rowsAt: (positions) => Array.from(positions, (r) => all[r]) };
  }

  /**
   * One page of anomalies, most severe first; a page past the end gives the last page. With
   * `incident`, only the anomalies behind that incident (404 when the analysis has no such incident).
   */
  async anomalyPage(id: string, page: number, pageSize: number, incident?: string): Promise<AnomalyPage> {
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    if (incident !== undefined) return this.incidentAnomalyPage(id, page, pageSize, incident);
    const table = await this.anomalyTable(id);
    return pageResult(table.count, page, pageSize, null, (from, to) => table.rows(from, to));
  }

  private async incidentAnomalyPage(id: string, page: number, pageSize: number, incident: string): Promise<AnomalyPage> {
    const file = await this.incidentsFile(id);
    if (file === null) {
      // An analysis from before incidents.json: filter the whole list.
      const summary = await this.summary(id);
      if (!summary.incidents.some((i) => i.id === incident)) throw new AppError(404, `Analysis ${id} has no incident ${incident}.`);
      const all = (await this.anomalies(id)).filter((r) => r.incidentId === incident);
      return pageResult(all.length, page, pageSize, incident, (from, to) => all.slice(from, to));
    }
    // The incident's positions in the anomaly table.
    const ranks = this.incidentEntry(id, file, incident).anomalyRanks;
    const table = await this.anomalyTable(id);
    return pageResult(ranks.length, page, pageSize, incident, (from, to) => table.rowsAt(ranks.slice(from, to)));
  }

  /** An analysis's incident flows (incidents.bin, or incidents.json from before it), checked and cached; null for an analysis from before both. */
  async incidentsFile(id: string): Promise<IncidentsFile | null> {
    const cached = lruGet(this.incidentsCache, id);
    if (cached !== undefined) return cached;
    if (!(await this.store.exists(id))) throw new AppError(404, `No analysis with id ${id}.`);
    let file: IncidentsFile | null;
    try {
      file = decodeIncidentsBin(await readFile(this.store.filePath(id, 'incidents.bin')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      try {
        file = parseIncidentsFile(await readFile(this.store.filePath(id, 'incidents.json'), 'utf8'));
      } catch (err2) {
        if ((err2 as NodeJS.ErrnoException).code !== 'ENOENT') throw err2;
        file = null;
      }
    }
    lruSet(this.incidentsCache, id, file, INCIDENTS_CACHE_SIZE);
    return file;
  }

  private incidentEntry(id: string, file: IncidentsFile, incident: string): IncidentFlowsEntry {
    const entry = file.incidents.find((e) => e.id === incident);
    if (!entry) throw new AppError(404, `Analysis ${id} has no incident ${incident}.`);
    return entry;
  }

  /**
   * The CSV of every flow behind an incident, in pieces (see reports/incident-file.ts). Throws a 404
   * AppError, before any piece, when the analysis or the incident is unknown.
   */
  async incidentReport(id: string, incident: string): Promise<AsyncGenerator<string>> {
    const file = await this.incidentsFile(id);
    if (file === null) throw new AppError(404, `Analysis ${id} has no incident flows (it was analysed before they were kept).`);
    const entry = this.incidentEntry(id, file, incident);
    return incidentReportChunks(this.store.filePath(id, 'input.csv'), file, entry);
  }
}
