/**
 * One error type (AppError), one converter (toAppError) and one 4-argument handler that answers
 * JSON or the EJS error page by Accept. Stacks are shown only in development.
 */
import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { ZodError } from 'zod';
import { QueueClosedError, QueueFullError } from '../analysis/queue.ts';
import type { Config } from '../config/index.ts';
import { ParameterError } from '../detection/index.ts';
import { CsvFormatError } from '../ingest/types.ts';
import type { Logger } from '../logging/index.ts';
import { removeUploads } from './upload.ts';

export class AppError extends Error {
  override readonly name = 'AppError';
  constructor(
    readonly status: number,
    message: string,
    readonly details?: Record<string, unknown>,
    /** The error this one stands for (logged, never shown). */
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

/**
 * Marks a form route: a browser whose post fails sees the home page again with the message (the
 * error handler's renderHomeWithError), not the error page.
 */
export function homeOnError(_req: Request, res: Response, next: NextFunction): void {
  res.locals.homeOnError = true;
  next();
}

/** Maps any thrown value to an AppError with the right status. */
export function toAppError(err: unknown, maxUploadMb: number): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) {
    const issues = err.issues.map((i) => ({ field: i.path.map(String).join('.') || '(input)', message: i.message }));
    const first = issues[0];
    return new AppError(400, first ? `Invalid ${first.field}: ${first.message}` : 'Invalid input', { issues }, err);
  }
  if (err instanceof multer.MulterError) {
    if (err.code === 'LIMIT_FILE_SIZE') {
      return new AppError(413, `The file is larger than the upload limit of ${maxUploadMb} MB.`, { code: err.code, limitMb: maxUploadMb }, err);
    }
    const messages: Partial<Record<string, string>> = {
      LIMIT_UNEXPECTED_FILE: `Unexpected file field${err.field ? ` "${err.field}"` : ''}: upload one CSV file in the field "file".`,
      LIMIT_FILE_COUNT: 'Upload a single file.',
    };
    return new AppError(400, messages[err.code] ?? err.message, { code: err.code, ...(err.field ? { field: err.field } : {}) }, err);
  }
  if (err instanceof CsvFormatError) {
    return new AppError(422, err.message, { line: err.line, column: err.column, columnName: err.columnName }, err);
  }
  if (err instanceof ParameterError) return new AppError(400, err.message, { field: err.param }, err);
  if (err instanceof QueueFullError) {
    return new AppError(503, err.message, { waiting: err.waiting, limit: err.limit }, err);
  }
  if (err instanceof QueueClosedError) return new AppError(503, err.message, undefined, err);
  // body-parser and other http-errors style errors that are safe to show (bad JSON, too large).
  const e = err as { status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown; type?: unknown };
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : null;
  if (status !== null && status >= 400 && status < 500 && e.expose === true) {
    return new AppError(status, typeof e.message === 'string' ? e.message : 'Bad request', typeof e.type === 'string' ? { type: e.type } : undefined, err);
  }
  return new AppError(500, 'Internal server error', undefined, err);
}

export interface ErrorHandlerDeps {
  readonly config: Pick<Config, 'env' | 'server'>;
  readonly logger: Logger;
  /** Renders the home page with an error (form posts to /analyze that fail). */
  readonly renderHomeWithError?: (req: Request, res: Response, status: number, message: string) => Promise<void>;
}

export function notFound(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError(404, `Not found: ${req.method} ${req.path}`));
}

/** The one error handler (Express recognizes it by its 4 parameters). */
export function errorHandler(deps: ErrorHandlerDeps) {
  const dev = deps.config.env === 'development';
  return function handleError(err: unknown, req: Request, res: Response, next: NextFunction): void {
    const appError = toAppError(err, deps.config.server.maxUploadMb);
    const cause = appError.cause ?? appError;
    const stack = cause instanceof Error && cause.stack ? cause.stack : null;
    const showStack = dev && appError.status >= 500 ? stack : null;
    const details = appError.details ?? null;
    const analysisId = typeof res.locals.analysisId === 'string' ? res.locals.analysisId : undefined;
    const meta = { method: req.method, url: req.originalUrl, status: appError.status, ...(analysisId ? { analysisId } : {}) };
    if (appError.status >= 500 && appError.status !== 503) {
      deps.logger.error(`${req.method} ${req.originalUrl} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { ...meta, stack });
    } else {
      deps.logger.warn(`${req.method} ${req.originalUrl} → ${appError.status}: ${appError.message}`, meta);
    }
    if (res.headersSent) {
      next(err);
      return;
    }
    // Nothing of a failed upload survives the answer.
    removeUploads(res).finally(respond);
    function respond(): void {
    if (appError.status === 503) res.set('Retry-After', '5');
    res.status(appError.status);
    res.format({
      json: () => {
        res.json({ error: appError.message, ...(details ? { details } : {}), ...(showStack ? { stack: showStack } : {}) });
      },
      html: () => {
        if (res.locals.homeOnError && deps.renderHomeWithError) {
          deps.renderHomeWithError(req, res, appError.status, appError.message).catch(() => sendErrorPage());
          return;
        }
        sendErrorPage();
      },
      default: () => {
        res.type('text/plain').send(`${appError.status} ${appError.message}\n`);
      },
    });
    }
    function sendErrorPage(): void {
      const locals = { title: `Error ${appError.status}`, currentPath: req.path, status: appError.status, message: appError.message, details, stack: showStack };
      res.render('pages/error', locals, (renderErr: Error | null, html?: string) => {
        if (renderErr || html === undefined) {
          deps.logger.error(`error page failed to render: ${renderErr?.message}`, { stack: renderErr?.stack });
          res.type('text/plain').send(`${appError.status} ${appError.message}\n`);
          return;
        }
        res.type('html').send(html);
      });
    }
  };
}
