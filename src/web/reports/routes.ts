/** Downloads, chart images and the JSON the analysis page's script reads. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router, type Request, type Response } from 'express';
import { validate } from '../validate.ts';
import { chartParams, idParams, incidentParams, pageQuery, type ChartParams, type IdParams, type IncidentParams, type PageQuery } from './schema.ts';
import type { ReportsService } from './service.ts';

/** Stored analyses never change: let browsers keep them a while. */
const CACHE = 'private, max-age=3600';

export function reportsRoutes(deps: { service: ReportsService }): Router {
  const router = Router();
  const { service } = deps;
  const id = validate('params', idParams, 'params');

  router.get('/download/:id', id, async (_req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    res.download(await service.file(id, 'anomalies.csv'), `anomalies_${id}.csv`, { headers: { 'Content-Type': 'text/csv; charset=utf-8' } });
  });
  router.get('/download/:id/results', id, async (_req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    res.download(await service.resultsFile(id), `results_${id}.csv`, { headers: { 'Content-Type': 'text/csv; charset=utf-8' } });
  });
  router.get('/download/:id/summary', id, async (_req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    res.download(await service.file(id, 'summary.json'), `summary_${id}.json`, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  });
  router.get('/download/:id/model', id, async (_req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    res.download(await service.file(id, 'model.json'), `model_${id}.json`, { headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  });

  // Every flow behind one incident, written from input.csv and incidents.json as it is sent.
  router.get('/download/:id/incident/:incidentId', validate('params', incidentParams, 'params'), async (_req: Request, res: Response) => {
    const { id, incidentId } = res.locals.params as IncidentParams;
    const chunks = await service.incidentReport(id, incidentId);
    res.attachment(`incident_${incidentId}_${id}.csv`).type('text/csv; charset=utf-8');
    await pipeline(Readable.from(chunks), res);
  });

  router.get('/visualization/:id/:kind', validate('params', chartParams, 'params'), async (_req: Request, res: Response) => {
    const { id, kind } = res.locals.params as ChartParams;
    const file = await service.chart(id, kind);
    res.set('Cache-Control', CACHE);
    res.type('png').sendFile(file);
  });

  router.get('/analysis/:id/points.json', id, async (_req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    // Served as stored: parsing and re-encoding a file of every anomaly's point gains nothing.
    const file = await service.file(id, 'points.json');
    res.set('Cache-Control', CACHE).type('json').sendFile(file);
  });

  router.get('/analysis/:id/anomalies.json', id, validate('query', pageQuery, 'query'), async (_req: Request, res: Response) => {
    const { id } = res.locals.params as IdParams;
    const { page, size, incident } = res.locals.query as PageQuery;
    const result = await service.anomalyPage(id, page, size, incident);
    res.json({ total: result.total, page: result.page, pageSize: result.pageSize, pageCount: result.pageCount, incident: result.incident, rows: result.rows });
  });
  return router;
}
