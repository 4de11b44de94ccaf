/**
 * Analyses and their artifacts under outputs/<id>/, generated samples under outputs/samples/.
 * An analysis is written into outputs/.tmp-<id>/ and renamed into place when complete, so a reader
 * never sees half an analysis and an error leaves nothing behind. Every id and file name is checked
 * against a strict pattern before it becomes part of a path.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { ANALYSIS_ID_PATTERN, type AnalysisSummary } from '../analysis/types.ts';
import { ANALYSIS_FILES, SAMPLE_FILE_PATTERN, type AnalysisFile, type AnalysisListItem } from './types.ts';

export { ANALYSIS_FILES, SAMPLE_FILE_PATTERN } from './types.ts';
export { jsonLinesIndex, readJsonLinesRange, writeJsonLines, writeJsonLinesArray } from './json-lines.ts';
export type { AnalysisFile, AnalysisListItem } from './types.ts';

const TMP_PREFIX = '.tmp-';

export function isAnalysisId(id: unknown): id is string {
  return typeof id === 'string' && ANALYSIS_ID_PATTERN.test(id);
}

export function isSampleFileName(name: unknown): name is string {
  return typeof name === 'string' && SAMPLE_FILE_PATTERN.test(name);
}

function stamp(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${p(date.getUTCFullYear(), 4)}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}_` +
    `${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}`
  );
}

/** `YYYYMMDD_HHMMSS_` (UTC) + 6 random hex digits. */
export function makeId(date = new Date()): string {
  return `${stamp(date)}_${randomBytes(3).toString('hex')}`;
}

export class StorageError extends Error {
  override readonly name = 'StorageError';
}

export class AnalysisStore {
  readonly outputsDir: string;
  readonly samplesDir: string;
  /** Ids handed out by this process and not yet committed or aborted. */
  private readonly reserved = new Set<string>();
  private readonly listCache = new Map<string, { mtimeMs: number; item: AnalysisListItem }>();

  constructor(outputsDir: string) {
    this.outputsDir = path.resolve(outputsDir);
    this.samplesDir = path.join(this.outputsDir, 'samples');
  }

  /**
   * Removes the temp folders and temp sample files a crashed run left behind (a start-up sweep: run
   * it before any process writes). Makes no folder: each is made by what writes into it, begin()
   * outputs/ and newSampleName() outputs/samples/, so a store works without init() too.
   */
  async init(): Promise<void> {
    for (const dir of [this.outputsDir, this.samplesDir]) {
      let entries: string[];
      try {
        entries = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // nothing was ever written there
        throw err;
      }
      for (const entry of entries) {
        if (entry.startsWith(TMP_PREFIX)) await rm(path.join(dir, entry), { recursive: true, force: true });
      }
    }
  }

  /** A fresh id, unique in this process and on disk; its temp folder is created (exclusively). */
  async begin(date = new Date()): Promise<{ id: string; dir: string }> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const id = makeId(date);
      if (this.reserved.has(id) || existsSync(this.dirOf(id))) continue;
      const dir = this.tempDirOf(id);
      try {
        await mkdir(this.outputsDir, { recursive: true }); // the one place outputs/ is made
        await mkdir(dir); // fails with EEXIST if another process took it
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw err;
      }
      this.reserved.add(id);
      return { id, dir };
    }
    throw new StorageError('could not allocate a unique analysis id');
  }

  /** Moves the complete temp folder into place. */
  async commit(id: string): Promise<string> {
    this.check(id);
    const target = this.dirOf(id);
    await rename(this.tempDirOf(id), target);
    this.reserved.delete(id);
    return target;
  }

  /** Removes the temp folder of a failed analysis. */
  async abort(id: string): Promise<void> {
    this.check(id);
    await rm(this.tempDirOf(id), { recursive: true, force: true });
    this.reserved.delete(id);
  }

  tempDirOf(id: string): string {
    this.check(id);
    return path.join(this.outputsDir, TMP_PREFIX + id);
  }

  dirOf(id: string): string {
    this.check(id);
    return path.join(this.outputsDir, id);
  }

  /** Path of one of an analysis's files; both parts are validated. */
  filePath(id: string, file: AnalysisFile): string {
    if (!(ANALYSIS_FILES as readonly string[]).includes(file)) throw new StorageError(`not an analysis file: ${file}`);
    return path.join(this.dirOf(id), file);
  }

  async exists(id: string): Promise<boolean> {
    if (!isAnalysisId(id)) return false;
    try {
      return (await stat(path.join(this.dirOf(id), 'summary.json'))).isFile();
    } catch {
      return false;
    }
  }

  /** The analysis's summary, or null when there is no such (complete) analysis. */
  async readSummary(id: string): Promise<AnalysisSummary | null> {
    return this.readJson<AnalysisSummary>(id, 'summary.json');
  }

  async readJson<T>(id: string, file: AnalysisFile): Promise<T | null> {
    if (!isAnalysisId(id)) return null;
    try {
      return JSON.parse(await readFile(this.filePath(id, file), 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /**
   * Complete analyses, newest first (summaries cached by mtime). With `limit`, only the newest
   * `limit` by id (ids start with their start time) are read: the home page's few recent ones
   * without a summary read per stored analysis.
   */
  async list(options: { limit?: number } = {}): Promise<AnalysisListItem[]> {
    let entries: string[];
    try {
      entries = await readdir(this.outputsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const ids = entries.filter(isAnalysisId).sort().reverse();
    const limit = options.limit ?? Infinity;
    const items: AnalysisListItem[] = [];
    for (const id of ids) {
      if (items.length >= limit) break;
      const item = await this.listItem(id);
      if (item) items.push(item);
    }
    if (limit === Infinity) {
      const present = new Set(ids);
      for (const id of this.listCache.keys()) if (!present.has(id)) this.listCache.delete(id);
    }
    return items.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : b.id.localeCompare(a.id)));
  }

  /** What the lists show of one analysis; null when it has no readable summary (not complete). */
  private async listItem(id: string): Promise<AnalysisListItem | null> {
    const file = path.join(this.outputsDir, id, 'summary.json');
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(file)).mtimeMs;
    } catch {
      return null;
    }
    const cached = this.listCache.get(id);
    if (cached && cached.mtimeMs === mtimeMs) return cached.item;
    try {
      const s = JSON.parse(await readFile(file, 'utf8')) as AnalysisSummary;
      const item: AnalysisListItem = {
        id,
        createdAt: s.createdAt,
        fileName: s.fileName,
        total_records: s.statistics.total_records,
        anomaly_count: s.statistics.anomaly_count,
        anomaly_percentage: s.statistics.anomaly_percentage,
        incidents: s.incidents.length,
      };
      this.listCache.set(id, { mtimeMs, item });
      return item;
    } catch {
      return null; // unreadable summary: not listed
    }
  }

  /** A fresh sample file name (not existing yet) in outputs/samples/, which is made if missing. */
  newSampleName(date = new Date()): { name: string; path: string } {
    mkdirSync(this.samplesDir, { recursive: true }); // the one place samples/ is made (sync like this method; cheap when it exists)
    for (let attempt = 0; attempt < 100; attempt++) {
      const name = `sample_${makeId(date)}.csv`;
      const p = path.join(this.samplesDir, name);
      if (!existsSync(p)) return { name, path: p };
    }
    throw new StorageError('could not allocate a unique sample name');
  }

  /** Path of a generated sample, after checking the name; null when the name is not a sample name. */
  samplePath(name: string): string | null {
    if (!isSampleFileName(name)) return null;
    return path.join(this.samplesDir, name);
  }

  private check(id: string): void {
    if (!isAnalysisId(id)) throw new StorageError(`invalid analysis id: ${JSON.stringify(id).slice(0, 40)}`);
  }
}
