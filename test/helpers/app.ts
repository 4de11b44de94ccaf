/**
 * Starts the real app in-process on port 0 with temp uploads/outputs folders and a memory logger,
 * plus fetch helpers for multipart uploads.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.ts';
import { AnalysisQueue } from '../../src/analysis/queue.ts';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config/index.ts';
import { createLogger, MemoryTransport } from '../../src/logging/index.ts';
import { AnalysisStore } from '../../src/storage/index.ts';
import { ReportsService } from '../../src/web/reports/service.ts';

export { PROJECT_ROOT } from './paths.ts';
/** Views that print their locals as JSON, to assert what each page is given. */
export const LOCALS_VIEWS = path.join(PROJECT_ROOT, 'test', 'fixtures', 'views');

export interface TestApp {
  readonly url: string;
  readonly dir: string;
  readonly config: Config;
  readonly memory: MemoryTransport;
  readonly store: AnalysisStore;
  readonly queue: AnalysisQueue;
  close(): Promise<void>;
  /** Resolves when the charts being drawn after an answer (and results.csv being written) are done. */
  settled(): Promise<void>;
  /** Files (recursively, relative) under uploads/ and outputs/, excluding outputs/samples/*. */
  leftovers(): Promise<{ uploads: string[]; temp: string[] }>;
}

export interface TestAppOptions {
  /** Deep-merged over config.json. */
  readonly overrides?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  /** Use the JSON-locals views (default) or the real views/ folder. */
  readonly realViews?: boolean;
  readonly maxWaiting?: number;
  /** results.csv with the analysis or on first download (default: by size). */
  readonly scoredDataset?: 'eager' | 'lazy';
  /** Chart PNGs inside the analysis or after it answers (default, as in production). */
  readonly charts?: 'eager' | 'deferred';
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-web-'));
  const config = loadConfig({
    path: path.join(PROJECT_ROOT, 'config.json'),
    env: { NODE_ENV: 'test', ...options.env },
    overrides: {
      ...options.overrides,
      paths: { uploads: path.join(dir, 'uploads'), outputs: path.join(dir, 'outputs'), logs: path.join(dir, 'logs') },
      logging: { level: 'debug', files: false },
      server: { port: 0, host: '127.0.0.1', ...((options.overrides?.server as object) ?? {}) },
    },
  });
  const memory = new MemoryTransport();
  const logger = createLogger({ level: 'debug', memory, console: false });
  const store = new AnalysisStore(config.paths.outputs);
  await store.init();
  const queue = new AnalysisQueue({ concurrency: 1, maxWaiting: options.maxWaiting ?? config.server.maxQueue });
  const reports = new ReportsService(store);
  const app = createApp({
    reports,
    config,
    logger,
    store,
    queue,
    rootDir: PROJECT_ROOT,
    ...(options.realViews ? {} : { viewsDir: LOCALS_VIEWS }),
    detectorWorkers: 1,
    scoredDataset: options.scoredDataset,
    charts: options.charts,
  });
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    dir,
    config,
    memory,
    store,
    queue,
    settled: () => reports.settled(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue.close();
      await reports.settled(); // charts drawn after an answer write into dir
      await rm(dir, { recursive: true, force: true });
    },
    async leftovers() {
      const uploads = await readdirOrNone(config.paths.uploads);
      const temp = (await readdirOrNone(config.paths.outputs)).filter((n) => n.startsWith('.tmp-'));
      const samples = (await readdirOrNone(store.samplesDir)).filter((n) => n.startsWith('.tmp-'));
      return { uploads, temp: [...temp, ...samples] };
    },
  };
}

/** A folder's entries; none when it was never made (outputs/ and samples/ are made on first write). */
async function readdirOrNone(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}

export interface UploadOptions {
  readonly fileName?: string;
  readonly type?: string;
  readonly fields?: Record<string, string>;
  readonly accept?: string;
  /** Form field for the file (default 'file'). */
  readonly field?: string;
}

/** POST /analyze with a multipart body. */
export async function postCsv(baseUrl: string, csv: string | Uint8Array | null, options: UploadOptions = {}): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries(options.fields ?? {})) form.append(k, v);
  if (csv !== null) {
    form.append(options.field ?? 'file', new Blob([csv], { type: options.type ?? 'text/csv' }), options.fileName ?? 'flows.csv');
  }
  return fetch(`${baseUrl}/analyze`, {
    method: 'POST',
    body: form,
    headers: { Accept: options.accept ?? 'application/json' },
    redirect: 'manual',
  });
}

export async function getJson(url: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}
