/**
 * CSV uploads with multer: disk storage under config.paths.uploads with random names (the user's
 * file name never becomes a path), a size limit, a file filter; every file this request stored is
 * removed when the request fails, and again (harmlessly) when the response closes.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { AppError } from './errors.ts';

export const ACCEPTED_MIME_TYPES = ['text/csv', 'application/vnd.ms-excel', 'text/plain', 'application/csv', 'text/x-csv'] as const;
const TEXT_EXTENSIONS = ['', '.csv', '.txt', '.log'];

export interface UploadOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** Form field of the file. */
  readonly field?: string;
}

/** A display-safe version of the user's file name (never used as a path). */
export function displayFileName(original: string | undefined): string {
  const base = (original ?? '').split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
  return clean || 'upload.csv';
}

export function isAcceptedFile(originalName: string, mimeType: string): boolean {
  const ext = path.extname(originalName).toLowerCase();
  if (ext === '.csv') return true;
  return (ACCEPTED_MIME_TYPES as readonly string[]).includes(mimeType.toLowerCase()) && TEXT_EXTENSIONS.includes(ext);
}

/** Paths stored by each request, recorded as multer names them (before any byte is written). */
const pathsByRequest = new WeakMap<Request, string[]>();

function storedPaths(res: Response): string[] {
  const req = res.req;
  let paths = pathsByRequest.get(req);
  if (!paths) pathsByRequest.set(req, (paths = []));
  return paths;
}

export async function removeUploads(res: Response): Promise<void> {
  const paths = storedPaths(res);
  await Promise.all(paths.map((p) => rm(p, { force: true }).catch(() => undefined)));
}

/** Middleware that stores one CSV in `field` and puts it on req.file (multer's own contract). */
export function csvUpload(options: UploadOptions) {
  mkdirSync(options.dir, { recursive: true });
  const field = options.field ?? 'file';
  const storage = multer.diskStorage({
    destination: options.dir,
    filename: (req, _file, cb) => {
      const name = `upload-${randomBytes(12).toString('hex')}.part`;
      pathsByRequest.get(req)?.push(path.join(options.dir, name));
      cb(null, name);
    },
  });
  const upload = multer({
    storage,
    limits: { fileSize: options.maxBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 25 },
    fileFilter: (_req, file, cb) => {
      if (isAcceptedFile(file.originalname, file.mimetype)) cb(null, true);
      else
        cb(
          new AppError(415, `Unsupported file type: upload a .csv file (got ${JSON.stringify(path.extname(file.originalname) || file.mimetype)}).`, {
            mimeType: file.mimetype,
          }),
        );
    },
  }).single(field);

  return function csvUploadMiddleware(req: Request, res: Response, next: NextFunction): void {
    storedPaths(res);
    res.on('close', () => void removeUploads(res));
    upload(req, res, (err?: unknown) => {
      if (err) {
        // multer removes its files too; this also covers a partial file of an aborted stream.
        removeUploads(res).then(() => next(err), () => next(err));
        return;
      }
      next();
    });
  };
}
