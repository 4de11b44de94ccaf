/** The one converter: each mapped status, tested (a precedence slip would turn a 404 into a 400). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import multer from 'multer';
import { z } from 'zod';
import { QueueClosedError, QueueFullError } from '../../src/analysis/queue.ts';
import { ParameterError } from '../../src/detection/index.ts';
import { CsvFormatError } from '../../src/ingest/types.ts';
import { AppError, toAppError } from '../../src/web/errors.ts';

describe('toAppError', () => {
  it('when given an AppError, then it is kept as is', () => {
    const e = new AppError(404, 'No analysis with id x.');
    assert.equal(toAppError(e, 1), e);
  });

  it('when given a ZodError, then 400 names the first field', () => {
    const r = z.object({ duration: z.number().max(168) }).safeParse({ duration: 500 });
    assert.ok(!r.success);
    const e = toAppError(r.error, 1);
    assert.equal(e.status, 400);
    assert.match(e.message, /^Invalid duration: /);
    assert.equal((e.details?.issues as { field: string }[])[0].field, 'duration');
  });

  it('when given a MulterError, then LIMIT_FILE_SIZE is 413 and any other 400', () => {
    assert.equal(toAppError(new multer.MulterError('LIMIT_FILE_SIZE', 'file'), 5).status, 413);
    assert.equal(toAppError(new multer.MulterError('LIMIT_FILE_SIZE', 'file'), 5).message, 'The file is larger than the upload limit of 5 MB.');
    assert.equal(toAppError(new multer.MulterError('LIMIT_PART_COUNT'), 5).status, 400);
    assert.equal(toAppError(new multer.MulterError('LIMIT_UNEXPECTED_FILE', 'x'), 5).status, 400);
  });

  it('when given a CsvFormatError, then 422 with line, column and column name', () => {
    const e = toAppError(new CsvFormatError('bad number', 12, 3, 'packet_count'), 1);
    assert.equal(e.status, 422);
    assert.equal(e.message, 'bad number');
    assert.deepEqual(e.details, { line: 12, column: 3, columnName: 'packet_count' });
  });

  it('when the queue is full or closed, then 503', () => {
    assert.equal(toAppError(new QueueFullError(8, 8), 1).status, 503);
    assert.equal(toAppError(new QueueClosedError(), 1).status, 503);
  });

  it('when the detector rejects a parameter, then 400 names it', () => {
    const e = toAppError(new ParameterError('contamination', 'contamination must be in (0, 0.5]'), 1);
    assert.equal(e.status, 400);
    assert.deepEqual(e.details, { field: 'contamination' });
  });

  it('when a body parser error is exposed, then its 4xx status is kept', () => {
    const err = Object.assign(new Error('Unexpected token'), { status: 400, expose: true, type: 'entity.parse.failed' });
    const e = toAppError(err, 1);
    assert.equal(e.status, 400);
    assert.deepEqual(e.details, { type: 'entity.parse.failed' });
  });

  it('when anything else is thrown, then 500 without its message', () => {
    const e = toAppError(new TypeError('secret internals'), 1);
    assert.equal(e.status, 500);
    assert.equal(e.message, 'Internal server error');
    assert.ok(e.cause instanceof TypeError);
    assert.equal(toAppError('a string', 1).status, 500);
    assert.equal(toAppError(Object.assign(new Error('x'), { status: 404 }), 1).status, 500, 'not exposed: hidden');
  });
});
