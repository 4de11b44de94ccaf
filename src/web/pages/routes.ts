/** Server-rendered pages: home, one analysis, history. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../../config/index.ts';
import { SAMPLE_FILE_PATTERN, type AnalysisStore } from '../../storage/index.ts';
import { analysisLinks } from '../analyze/service.ts';
import type { GenerateService } from '../generate/service.ts';
import { idParams, pageQuery, type IdParams, type PageQuery } from '../reports/schema.ts';
import type { ReportsService } from '../reports/service.ts';
import { fmtSize } from '../../findings/index.ts';
import { validate } from '../validate.ts';

const homeQuery = z.object({ generated: z.string().optional() });
/** Analyses the home page lists. */
const RECENT_ANALYSES = 5;

export interface PagesDeps {
  readonly config: Config;
  readonly store: AnalysisStore;
  readonly reports: ReportsService;
  readonly generate: GenerateService;
}

/** What the home page shows: the recent analyses, a just generated sample and an error message. */
export type HomeLocals = (generatedName: string | undefined, error: string | null) => Promise<Record<string, unknown>>;

/** The home page's locals builder (the page route and the error handler share one). */
export function homeLocals(deps: PagesDeps): HomeLocals {
  return async (generatedName: string | undefined, error: string | null) => {
    const recent = await deps.store.list({ limit: RECENT_ANALYSES });
    let generated: { filename: string; records: number; download_url: string } | null = null;
    if (generatedName && SAMPLE_FILE_PATTERN.test(generatedName)) {
      const sample = await deps.generate.describe(generatedName);
      if (sample) generated = { filename: sample.filename, records: sample.records, download_url: sample.download_url };
    }
    const d = deps.config.detection;
    return {
      title: 'Network traffic anomaly detection',
      currentPath: '/',
      recent,
      generated,
      defaults: { features: [...d.features], contamination: d.contamination, n_estimators: d.nEstimators, random_state: d.randomState },
      maxUploadMb: deps.config.server.maxUploadMb,
      error,
    };
  };
}

export function pagesRoutes(deps: PagesDeps & { readonly home: HomeLocals }): Router {
  const router = Router();
  const { home } = deps;

  router.get('/', validate('query', homeQuery, 'query'), async (_req: Request, res: Response) => {
    const { generated } = res.locals.query as z.infer<typeof homeQuery>;
    res.render('pages/home', await home(generated, null));
  });

  router.get('/history', async (_req: Request, res: Response) => {
    res.render('pages/history', { title: 'History', currentPath: '/history', analyses: await deps.store.list() });
  });

  router.get('/analysis/:id', validate('params', idParams, 'params'), validate('query', pageQuery, 'query'), async (req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    const { page, size, incident } = res.locals.query as PageQuery;
    res.locals.analysisId = id;
    const summary = await deps.reports.summary(id);
    const slice = await deps.reports.anomalyPage(id, page, size, incident);
    const links = analysisLinks(id);
    res.render('pages/analysis', {
      title: `Analysis ${summary.fileName}`,
      currentPath: req.path,
      summary,
      anomalies: slice.rows,
      page: slice.page,
      pageCount: slice.pageCount,
      pageSize: slice.pageSize,
      totalAnomalies: slice.total,
      /** The incident the anomaly table is filtered to, or null. */
      incidentFilter: slice.incident,
      /** Sizes as every finding writes them (3 significant digits, decimal units). */
      fmtSize,
      links: {
        self: links.page,
        scatter: links.scatter,
        distribution: links.distribution,
        timeline: links.timeline,
        report: links.report,
        results: links.results,
        summaryJson: links.summary,
        points: links.points,
        model: links.model,
        incidentFlows: links.incidentFlows,
      },
    });
  });
  return router;
}
