/** POST /generate_data and GET /download_sample/:file. */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { SAMPLE_FILE_PATTERN, type AnalysisStore } from '../../storage/index.ts';
import { AppError, homeOnError } from '../errors.ts';
import { validate } from '../validate.ts';
import { wantsHtml } from '../analyze/routes.ts';
import { generateBodySchema, type GenerateInput } from './schema.ts';
import type { GenerateService } from './service.ts';
import { access } from 'node:fs/promises';

const sampleParams = z.object({ file: z.string().regex(SAMPLE_FILE_PATTERN, 'a generated sample name (sample_YYYYMMDD_HHMMSS_xxxxxx.csv)') });

export function generateRoutes(deps: { service: GenerateService; store: AnalysisStore }): Router {
  const router = Router();
  router.post(
    '/generate_data',
    homeOnError,
    validate('body', generateBodySchema, 'input'),
    async (req: Request, res: Response) => {
    const sample = await deps.service.generate(res.locals.input as GenerateInput);
    if (wantsHtml(req)) {
      res.redirect(303, `/?generated=${encodeURIComponent(sample.filename)}`);
      return;
    }
    res.json({ success: true, ...sample });
    },
  );

  router.get('/download_sample/:file', validate('params', sampleParams, 'sample'), async (_req: Request, res: Response) => {
    const { file } = res.locals.sample as z.infer<typeof sampleParams>;
    const p = deps.store.samplePath(file);
    if (!p || !(await access(p).then(() => true, () => false))) throw new AppError(404, `No generated sample named ${file}.`);
    res.download(p, file, { headers: { 'Content-Type': 'text/csv; charset=utf-8' } });
  });
  return router;
}
