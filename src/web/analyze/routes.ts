/** POST /analyze: upload a CSV, answer JSON (API / page script) or 303 to the analysis page (form post). */
import { Router, type Request, type Response } from 'express';
import { analysisCsvOptions } from '../../analysis/pipeline.ts';
import type { AnalysisParameters } from '../../analysis/types.ts';
import type { Config } from '../../config/index.ts';
import { AppError, homeOnError } from '../errors.ts';
import { csvUpload, displayFileName, parsedUpload } from '../upload.ts';
import { validate } from '../validate.ts';
import { analyzeBodySchema } from './schema.ts';
import { analyzeResponse, type AnalyzeService } from './service.ts';

/** True when the client asked for a page rather than JSON (a browser form post). */
export function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html';
}

export function analyzeRoutes(deps: { config: Config; service: AnalyzeService }): Router {
  const router = Router();
  const parseClaims = new WeakMap<Request, () => void>();
  const bodySchema = analyzeBodySchema(deps.config.detection);
  /**
   * Parse the CSV while it arrives, with the features of the fields sent before it (the form and
   * `curl -F` send them in order). Not when the analysis would wait in the queue: a waiting upload
   * holds a path, not a parsed table. A later `features` field makes the route parse from disk.
   */
  const parseWhileUploading = (req: Request) => {
    const body = bodySchema.safeParse(req.body);
    if (!body.success) return null;
    const release = deps.service.claimParse();
    if (!release) return null;
    // Released when the analysis starts, or when the request ends without one (errors, aborts).
    parseClaims.set(req, release);
    req.res?.on('close', release);
    return analysisCsvOptions(body.data.features);
  };
  router.post(
    '/analyze',
    homeOnError,
    csvUpload({ dir: deps.config.paths.uploads, maxBytes: deps.config.server.maxUploadBytes, parseWhileUploading }),
    (req: Request, _res: Response, next) => {
      if (!req.file) throw new AppError(400, 'No file uploaded: choose a CSV file (form field "file").');
      if (req.file.size === 0) throw new AppError(422, 'The file is empty.', { line: 1, column: null, columnName: null });
      next();
    },
    validate('body', bodySchema, 'parameters'),
    async (req: Request, res: Response) => {
      const file = req.file!;
      const parameters = res.locals.parameters as AnalysisParameters;
      const table = parsedUpload(req, analysisCsvOptions(parameters.features));
      const summary = await deps.service.analyze({ path: file.path, fileName: displayFileName(file.originalname), table }, parameters, {
        clientGone: () => res.destroyed,
        releaseParse: parseClaims.get(req),
      });
      if (summary === null) return;
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
