/**
 * Starts a worker thread from a module that sits next to the caller, in both ways the project runs:
 * compiled (dist/…/*.js), the worker file is started directly; from sources under tsx
 * (`node --import tsx`, .ts files), tsx's loader only registers itself on the main thread, so the
 * worker starts from a small bootstrap that registers tsx's ESM hooks first and then imports the
 * module. Used by the scoring pool (src/detection/pool.ts) and the upload parser (src/ingest/threaded.ts).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** '.ts' when running from sources, '.js' when compiled: the same for every module of the build. */
const EXT = extname(fileURLToPath(import.meta.url));

/** `startModuleWorker('score-worker', import.meta.url)` starts ./score-worker.ts (or .js) beside the caller. */
export function startModuleWorker(name: string, callerUrl: string): Worker {
  const url = new URL(`./${name}${EXT}`, callerUrl);
  if (EXT !== '.ts') return new Worker(url);
  const api = import.meta.resolve('tsx/esm/api');
  const code =
    "const { workerData } = require('node:worker_threads');" +
    'import(workerData.api).then((m) => { m.register(); return import(workerData.url); });';
  return new Worker(code, { eval: true, workerData: { api, url: url.href } });
}
