/**
 * Starts a worker thread from a module that sits next to the caller, in both ways the project runs:
 * compiled (dist/…/*.js), the worker file is started directly; from sources under tsx
 * (`node --import tsx`, .ts files), tsx's loader only registers itself on the main thread, so the
 * worker starts from a small ES module (TSX_BOOTSTRAP) that registers tsx's ESM hooks first and
 * then imports the module. Used by the score pool (src/detection/pool.ts), the parse pool
 * (src/ingest/pool.ts) and the report worker (src/reports/report-runner.ts).
 * (Compiled, a worker started from its file inherits the parent's options, and Node refuses
 * --input-type there: run dist/ code from a module file, not from `--input-type=module -e`.)
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * The worker's first module under tsx: registers tsx's hooks in the worker thread, then imports the
 * worker module (`workerData: { api, url }`). A data: URL is an ES module by its MIME type, whatever
 * the parent process runs with: eval'd code would be CommonJS or ESM depending on the parent's
 * --input-type (so `require` failed under `--input-type=module`), and a worker started from a file
 * refuses an inherited --input-type altogether.
 */
const TSX_BOOTSTRAP = new URL(
  // One line, not percent-encoded, so that an error naming the importer ("imported from data:…")
  // stays readable: the code holds no newline, '#' or '%', which a URL would drop or decode.
  'data:text/javascript,' +
    "import { workerData } from 'node:worker_threads'; " +
    'const { register } = await import(workerData.api); ' +
    'register(); ' +
    'await import(workerData.url);',
);

/** '.ts' when running from sources, '.js' when compiled: the same for every module of the build. */
const EXT = extname(fileURLToPath(import.meta.url));

/** `startModuleWorker('score-worker', import.meta.url)` starts ./score-worker.ts (or .js) beside the caller. */
export function startModuleWorker(name: string, callerUrl: string): Worker {
  const url = new URL(`./${name}${EXT}`, callerUrl);
  if (EXT !== '.ts') return new Worker(url);
  const api = import.meta.resolve('tsx/esm/api');
  return new Worker(TSX_BOOTSTRAP, { workerData: { api, url: url.href } });
}
