/**
 * Entry point: load config → logger → createApp → listen. Graceful shutdown on SIGTERM/SIGINT:
 * stop accepting, let in-flight requests and queued analyses finish, close the detector's worker
 * pool. With server.workers / WORKERS = N > 1 the primary forks N workers (Node's cluster), restarts
 * crashed ones with backoff and forwards SIGTERM. Nothing runs at import: `main()` is called only
 * when this file is the entry point.
 */
import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { AnalysisQueue } from './analysis/queue.ts';
import { createApp } from './app.ts';
import type { WorkerReadiness } from './web/health/routes.ts';
import { ReportsService } from './web/reports/service.ts';
import { ConfigError, loadConfig, type Config } from './config/index.ts';
import { closeScorePool, warmScorePool } from './detection/index.ts';
import { closeParsePool, warmParsePool } from './ingest/index.ts';
import { closeLogger, createLogger, type Logger } from './logging/index.ts';
import { AnalysisStore } from './storage/index.ts';
import { sweepPartialUploads } from './web/upload.ts';

/** Detector worker threads per analysis (the pool is warmed with this many at start). */
const DETECTOR_WORKERS = 2;

/** Time allowed for in-flight work after SIGTERM before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 120_000;

export interface RunningServer {
  readonly server: Server;
  readonly url: string;
  /** Stops accepting, waits for in-flight requests and analyses, closes the worker pool. */
  close(): Promise<void>;
}

/** What a crashed run left behind: temp analysis folders, temp samples, partial uploads. */
async function sweepLeftovers(config: Config, store: AnalysisStore): Promise<void> {
  await store.init();
  await sweepPartialUploads(config.paths.uploads);
}

/** Starts one HTTP server process (a cluster worker or the only process). */
export async function startServer(config: Config, logger: Logger, options: { sweep?: boolean } = {}): Promise<RunningServer> {
  const store = new AnalysisStore(config.paths.outputs);
  if (options.sweep ?? true) await sweepLeftovers(config, store);
  const queue = new AnalysisQueue({ concurrency: 1, maxWaiting: config.server.maxQueue });
  const reports = new ReportsService(store);
  const workers: WorkerReadiness = { detector: false, parser: false };
  const app = createApp({ config, logger, store, queue, reports, workers, detectorWorkers: DETECTOR_WORKERS });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.server.port, config.server.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  // Large uploads on slow links: no request timeout; headers must still arrive promptly.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = `http://${config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host}:${port}`;
  logger.info(`listening on ${url} (pid ${process.pid}, env ${config.env})`);
  // Start the detector's worker threads now, not on the first upload (never blocks listening).
  const warmStarted = performance.now();
  warmScorePool(DETECTOR_WORKERS).then(
    () => {
      workers.detector = true;
      logger.debug(`detector workers ready in ${Math.round(performance.now() - warmStarted)}ms`, { workers: DETECTOR_WORKERS });
    },
    (err: unknown) => logger.warn(`detector workers did not start: ${(err as Error).message}`),
  );
  // Likewise the upload parser's workers, warmed up so the first upload's parse runs hot.
  warmParsePool().then(
    () => {
      workers.parser = true;
      logger.debug(`parse workers ready in ${Math.round(performance.now() - warmStarted)}ms`);
    },
    (err: unknown) => logger.warn(`parse workers did not warm up: ${(err as Error).message}`),
  );

  let closing: Promise<void> | null = null;
  return {
    server,
    url,
    close() {
      closing ??= (async () => {
        logger.info('shutting down: no new connections, finishing in-flight work');
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await queue.close();
        await closed;
        await reports.settled(); // charts being drawn after an answer
        await closeScorePool();
        await closeParsePool();
        logger.info('shut down cleanly');
      })();
      return closing;
    },
  };
}

function onSignals(handler: (signal: NodeJS.Signals) => void): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => handler(signal));
}

async function runWorker(config: Config, logger: Logger, sweep: boolean): Promise<void> {
  const running = await startServer(config, logger, { sweep });
  onSignals((signal) => {
    logger.info(`${signal} received`);
    const timer = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS}ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    running.close().then(
      () => closeLogger(logger).finally(() => process.exit(0)),
      (err: unknown) => {
        logger.error(`shutdown failed: ${(err as Error).message}`, { stack: (err as Error).stack });
        closeLogger(logger).finally(() => process.exit(1));
      },
    );
  });
}

async function runPrimary(config: Config, logger: Logger): Promise<void> {
  await sweepLeftovers(config, new AnalysisStore(config.paths.outputs)); // once, before any worker writes
  const n = config.server.workers;
  let stopping = false;
  const restarts: number[] = [];
  logger.info(`primary ${process.pid}: starting ${n} workers`);
  for (let i = 0; i < n; i++) cluster.fork();

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    while (restarts.length && now - restarts[0] > 60_000) restarts.shift();
    restarts.push(now);
    // Backoff: 0.5 s, 1 s, 2 s, ... up to 30 s, by crashes in the last minute.
    const delay = Math.min(30_000, 500 * 2 ** (restarts.length - 1));
    logger.error(`worker ${worker.process.pid} exited (${signal ?? code}); restarting in ${delay}ms`);
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, delay);
  });

  onSignals((signal) => {
    stopping = true;
    logger.info(`${signal} received: stopping workers`);
    const workers = Object.values(cluster.workers ?? {});
    for (const w of workers) w?.process.kill('SIGTERM');
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS + 5_000);
    timer.unref();
    let alive = workers.length;
    let failed = false;
    const done = () => closeLogger(logger).finally(() => process.exit(failed ? 1 : 0));
    if (alive === 0) void done();
    cluster.on('exit', (_worker, code) => {
      if (code !== 0) failed = true;
      if (--alive <= 0) void done();
    });
  });
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config;
  try {
    config = loadConfig({ env });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({
    level: config.logging.level,
    dir: config.logging.files ? config.paths.logs : null,
    json: config.env === 'production',
  });
  process.on('unhandledRejection', (reason) => {
    logger.error(`unhandled rejection: ${(reason as Error)?.message ?? String(reason)}`, { stack: (reason as Error)?.stack });
  });
  if (config.server.workers > 1 && cluster.isPrimary) {
    await runPrimary(config, logger);
    return;
  }
  await runWorker(config, logger.child({ pid: process.pid }), !cluster.isWorker);
}

const isEntry = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isEntry) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
