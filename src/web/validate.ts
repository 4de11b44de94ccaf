/** Validation middleware: parse a request part with a zod schema into res.locals (never onto req). */
import type { NextFunction, Request, Response } from 'express';
import type { z } from 'zod';

type Source = 'body' | 'query' | 'params';

export function validate<S extends z.ZodType>(source: Source, schema: S, key: string) {
  return function validateMiddleware(req: Request, res: Response, next: NextFunction): void {
    res.locals[key] = schema.parse(req[source] ?? {});
    next();
  };
}
