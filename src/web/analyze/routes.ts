/** POST /analyze: upload a CSV, answer JSON (API / page script) or 303 to the analysis page (form post). */
import { Router, type Request, type Response } from 'express';
import type { AnalysisParameters } from '../../analysis/types.ts';
import type { Config } from '../../config/index.ts';
import { AppError } from '../errors.ts';
import { csvUpload, displayFileName } from '../upload.ts';
import { validate } from '../validate.ts';
import { analyzeBodySchema } from './schema.ts';
import { analyzeResponse, type AnalyzeService } from './service.ts';

/** True when the client asked for a page rather than JSON (a browser form post). */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

export function analyzeRoutes(deps: { config: Config; service: AnalyzeService }): Router {
  const router = Router();
  router.post(
    '/analyze',
    (_req: Request, res: Response, next) => {
      res.locals.homeOnError = true;
      next();
    },
    csvUpload({ dir: deps.config.paths.uploads, maxBytes: deps.config.server.maxUploadBytes }),
    (req: Request, _res: Response, next) => {
      if (!req.file) throw new AppError(400, 'No file uploaded: choose a CSV file (form field "file").');
      if (req.file.size === 0) throw new AppError(422, 'The file is empty.', { line: 1, column: null, columnName: null });
      next();
    },
    validate('body', analyzeBodySchema(deps.config.detection), 'parameters'),
    async (req: Request, res: Response) => {
      const file = req.file!;
      const parameters = res.locals.parameters as AnalysisParameters;
      const summary = await deps.service.analyze({ path: file.path, fileName: displayFileName(file.originalname) }, parameters);
      res.locals.analysisId = summary.id;
      if (wantsHtml(req)) {
        res.redirect(303, `/analysis/${summary.id}`);
        return;
      }
      res.json(analyzeResponse(summary));
    },
  );
  return router;
}
