/** Validation middleware: parse a request part with a zod schema into res.locals (never onto req). */
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';

type Source = 'body' | 'query' | 'params';

/** For z.preprocess on form and query values: trimmed, and a blank one is as if not given. */
export function blankToUndefined(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  return t === '' ? undefined : t;
}

export function validate<S extends z.ZodType>(source: Source, schema: S, key: string) {
  return function validateMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.locals[key] = schema.parse(req[source] ?? {});
    next();
  };
}
