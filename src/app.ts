/**
 * createApp(deps) builds the Express app: security headers, access log, static files, routes by
 * feature, 404, the error handler. It never listens (server.ts does; tests listen on port 0).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Express, type Request, type Response } from 'express';
import { AnalysisQueue } from './analysis/queue.ts';
import type { Config } from './config/index.ts';
import { accessLog, type Logger } from './logging/index.ts';
import { AnalysisStore } from './storage/index.ts';
import { analyzeRoutes } from './web/analyze/routes.ts';
import { AnalyzeService } from './web/analyze/service.ts';
import { errorHandler, notFound } from './web/errors.ts';
import { generateRoutes } from './web/generate/routes.ts';
import { GenerateService } from './web/generate/service.ts';
import { healthRoutes, type WorkerReadiness } from './web/health/routes.ts';
import { homeLocals, pagesRoutes } from './web/pages/routes.ts';
import { findProjectRoot } from './web/paths.ts';
import { reportsRoutes } from './web/reports/routes.ts';
import { ReportsService } from './web/reports/service.ts';
import { securityHeaders } from './web/security.ts';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  /** Default: a store over config.paths.outputs. */
  readonly store?: AnalysisStore;
  /** Default: concurrency 1, config.server.maxQueue waiting. server.ts passes its own to close it on shutdown. */
  readonly queue?: AnalysisQueue;
  /** Readiness of the worker threads server.ts warms at start, for /health (left out when not given). */
  readonly workers?: Readonly<WorkerReadiness>;
  /** Default: a service over the store. server.ts and tests pass their own to wait for charts being drawn. */
  readonly reports?: ReportsService;
  /** Folder holding views/, public/ and node_modules/ (default: the project root). */
  readonly rootDir?: string;
  /** Views folder (default <rootDir>/views). */
  readonly viewsDir?: string;
  /** Detector worker threads per analysis (default 2). */
  readonly detectorWorkers?: number;
  /** results.csv now or on first download (default: by size, see runAnalysis). */
  readonly scoredDataset?: 'eager' | 'lazy';
  /**
   * Chart PNGs: 'deferred' (default) answers /analyze before drawing them and draws them right
   * after (or when first asked for); 'eager' draws them inside the analysis.
   */
  readonly charts?: 'eager' | 'deferred';
}

function packageVersion(root: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function createApp(deps: AppDeps): Express {
  const { config, logger } = deps;
  const root = deps.rootDir ?? findProjectRoot();
  const store = deps.store ?? new AnalysisStore(config.paths.outputs);
  const queue = deps.queue ?? new AnalysisQueue({ concurrency: 1, maxWaiting: config.server.maxQueue });
  // No folder is made here: the upload middleware makes uploads/, the store outputs/ and samples/.

  const reports = deps.reports ?? new ReportsService(store);
  const analyze = new AnalyzeService({
    config,
    logger,
    store,
    queue,
    workers: deps.detectorWorkers,
    scoredDataset: deps.scoredDataset,
    drawCharts: (deps.charts ?? 'deferred') === 'deferred' ? (id) => reports.drawCharts(id) : undefined,
  });
  const generate = new GenerateService({ store, logger });

  const app = express();
  app.disable('x-powered-by');
  app.set('view engine', 'ejs');
  app.set('views', deps.viewsDir ?? path.join(root, 'views'));
  app.set('env', config.env);
  if (config.env === 'production') app.set('view cache', true);

  app.use(securityHeaders);
  app.use(accessLog(logger));

  const staticOptions = { index: false, fallthrough: true, maxAge: config.env === 'production' ? '1d' : 0 } as const;
  app.use('/static/bootstrap', express.static(path.join(root, 'node_modules', 'bootstrap', 'dist'), staticOptions));
  app.use('/static/chart.js', express.static(path.join(root, 'node_modules', 'chart.js', 'dist'), staticOptions));
  app.use('/static', express.static(path.join(root, 'public'), staticOptions));

  app.use(express.json({ limit: '100kb' }));
  app.use(express.urlencoded({ extended: false, limit: '100kb' }));

  app.use(healthRoutes({ version: packageVersion(root), queue, workers: deps.workers }));
  app.use(analyzeRoutes({ config, service: analyze }));
  app.use(generateRoutes({ service: generate, store }));
  app.use(reportsRoutes({ service: reports }));
  const home = homeLocals({ config, store, reports, generate });
  app.use(pagesRoutes({ config, store, reports, generate, home }));

  app.use(notFound);
  app.use(
    errorHandler({
      config,
      logger,
      renderHomeWithError: async (_req: Request, res: Response, _status: number, message: string) => {
        const locals = await home(undefined, message);
        await new Promise<void>((resolve, reject) =>
          res.render('pages/home', locals, (err: Error | null, html?: string) => {
            if (err || html === undefined) reject(err ?? new Error('no html'));
            else {
              res.type('html').send(html);
              resolve();
            }
          }),
        );
      },
    }),
  );
  return app;
}
