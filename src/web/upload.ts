/**
 * CSV uploads with multer: stored under config.paths.uploads with random names (the user's file
 * name never becomes a path), a size limit, a file filter; every file this request stored is
 * removed when the request fails, and again (harmlessly) when the response closes.
 *
 * The storage engine can also parse the CSV while it arrives (`parseWhileUploading`): the same
 * chunks that go to the file feed an incremental parser, so the table is ready when the last byte
 * is written. Anything that parse cannot settle (a CSV error, the size limit, options that turn out
 * different from the analysis's) just drops it: the file is then parsed from disk as before, which
 * gives the same table or the same error.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { type FileHandle, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline, Writable } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { createCsvParser, createThreadedCsvParser, type CsvOptions, type CsvParserOptions, DEFAULT_CHUNK_BYTES, type FlowTable, MAX_RECORD_BYTES } from '../ingest/index.ts';
import { AppError } from './errors.ts';

export const ACCEPTED_MIME_TYPES = ['text/csv', 'application/vnd.ms-excel', 'text/plain', 'application/csv', 'text/x-csv'] as const;
const TEXT_EXTENSIONS = ['', '.csv', '.txt', '.log'];

const UPLOAD_PREFIX = 'upload-';
/** Bytes gathered before each write of an upload to disk. */
const WRITE_BYTES = 1024 * 1024;
/** Bytes taken in while a write is in flight, before the upload waits for it. */
const MAX_GATHERED_BYTES = 8 * WRITE_BYTES;
const UPLOAD_SUFFIX = '.part';

/**
 * Removes uploads a crashed process left in `dir`. Call it only at start-up, before this process
 * (or, in cluster mode, any worker) accepts an upload: every upload in flight is such a file.
 */
export async function sweepPartialUploads(dir: string): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (entry.startsWith(UPLOAD_PREFIX) && entry.endsWith(UPLOAD_SUFFIX)) {
      await rm(path.join(dir, entry), { force: true });
      removed++;
    }
  }
  return removed;
}

export interface UploadOptions {
  readonly dir: string;
  readonly maxBytes: number;
  /** Form field of the file. */
  readonly field?: string;
  /**
   * Called when the file starts (form fields sent before it are in req.body): the options to parse
   * it with while it arrives, or null to only store it. See parsedUpload.
   */
  readonly parseWhileUploading?: (req: Request) => CsvOptions | null;
  /**
   * Uploads declaring at least this many bytes are parsed on a worker thread (the main thread is
   * busy receiving them); smaller ones on the main thread, where a worker's start-up would cost more
   * than it saves. Default 8 MiB.
   */
  readonly parseThreadFromBytes?: number;
}

/** The parse running while a file arrives: on this thread or on a worker. */
interface UploadParser {
  push(chunk: Buffer): void;
  end(source: string): Promise<FlowTable>;
  abort(): void;
}

function uploadParser(options: CsvParserOptions, onWorker: boolean): UploadParser {
  if (onWorker) return createThreadedCsvParser(options);
  const parser = createCsvParser(options);
  return { push: (chunk) => parser.push(chunk), end: (source) => parser.end(source), abort: () => undefined };
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

/** The table parsed while a request's file arrived, with the options it was parsed with. */
const parsedByRequest = new WeakMap<Request, { options: CsvOptions; table: FlowTable }>();

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return (a ?? []).length === (b ?? []).length && (a ?? []).every((v, i) => v === b![i]);
}

function sameCsvOptions(a: CsvOptions, b: CsvOptions): boolean {
  return sameList(a.requiredColumns, b.requiredColumns) && sameList(a.numericColumns, b.numericColumns) && a.maxRows === b.maxRows;
}

/**
 * The table of the request's uploaded file, if it was parsed while arriving with exactly these
 * options; else undefined (parse the file). Hands it over once: the request keeps no reference.
 */
export function parsedUpload(req: Request, options: CsvOptions): FlowTable | undefined {
  const parsed = parsedByRequest.get(req);
  parsedByRequest.delete(req);
  return parsed !== undefined && sameCsvOptions(parsed.options, options) ? parsed.table : undefined;
}

/**
 * Records held whole by the parse while uploading are refused a little below parseCsvFile's limit
 * (its read chunks land anywhere in a record), so a file that parse would refuse is never accepted
 * here: it falls back to parseCsvFile, which decides.
 */
const UPLOAD_PARSE_MAX_RECORD_BYTES = MAX_RECORD_BYTES - 2 * DEFAULT_CHUNK_BYTES;

/**
 * A file written in pieces of at least WRITE_BYTES: the chunks that arrive meanwhile are kept (not
 * copied) and go to disk in one writev. A write per network chunk (~64 KiB, as fs.WriteStream
 * does) cost the main thread more than splitting the upload for the parse workers. While a writev
 * is in flight the next chunks are taken at once (up to MAX_GATHERED_BYTES): waiting for each
 * writev held up the socket, and the upload of 94 MB took ~0.2 s longer than with no file at all.
 */
export class BatchedFileWriter extends Writable {
  bytesWritten = 0;
  private fh: FileHandle | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  /** The writev in flight (one at a time, in order); it never rejects: a failure is kept in `failed`. */
  private inFlight: Promise<void> | null = null;
  private failed: Error | null = null;

  constructor(
    private readonly path: string,
    /** Sees each chunk as it is taken, before it is written (the parse while uploading). */
    private readonly onChunk: (chunk: Buffer) => void = () => undefined,
  ) {
    super();
  }

  override _construct(callback: (error?: Error | null) => void): void {
    open(this.path, 'w').then(
      (fh) => {
        this.fh = fh;
        callback();
      },
      (err: Error) => callback(err),
    );
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.failed !== null) {
      callback(this.failed);
      return;
    }
    this.onChunk(chunk);
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.size < WRITE_BYTES || (this.inFlight !== null && this.size < MAX_GATHERED_BYTES)) {
      callback();
      return;
    }
    // Enough gathered: write it now, or once the writev in flight is done (the stream waits then).
    const before = this.inFlight ?? Promise.resolve();
    before.then(() => {
      if (this.failed !== null) {
        callback(this.failed);
        return;
      }
      if (this.inFlight === null && this.size > 0) this.startWrite();
      callback();
    }, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const settle = async () => {
      while (this.inFlight !== null) await this.inFlight;
      if (this.failed === null && this.size > 0) {
        this.startWrite();
        await this.inFlight;
      }
      if (this.failed !== null) throw this.failed;
    };
    settle().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fh = this.fh;
    this.fh = null;
    // FileHandle.close waits for a writev in flight.
    if (fh === null) callback(error);
    else fh.close().then(() => callback(error), (err: Error) => callback(error ?? err));
  }

  /** Writes the gathered chunks (one writev, repeated after a short write); sets inFlight. */
  private startWrite(): void {
    let list = this.chunks;
    this.chunks = [];
    this.size = 0;
    const write = async () => {
      while (list.length > 0) {
        if (this.fh === null) throw new Error('the upload file is closed');
        const { bytesWritten } = await this.fh.writev(list);
        this.bytesWritten += bytesWritten;
        // A short write: go on from the first byte not written.
        let done = bytesWritten;
        let k = 0;
        while (k < list.length && done >= list[k].length) done -= list[k++].length;
        list = k < list.length ? [list[k].subarray(done), ...list.slice(k + 1)] : [];
      }
    };
    const flight: Promise<void> = write().then(
      () => {
        if (this.inFlight === flight) this.inFlight = null;
      },
      (err: Error) => {
        this.failed = err;
        if (this.inFlight === flight) this.inFlight = null;
      },
    );
    this.inFlight = flight;
  }
}

/** Resolves once the stream's file descriptor is closed (or it never opened one). */
function whenClosed(out: Writable): Promise<void> {
  if (out.closed) return Promise.resolve();
  return new Promise((resolve) => {
    out.once('close', resolve);
    out.once('error', () => resolve());
  });
}

/**
 * multer storage: the file stream goes to a random name under `dir` and, when
 * `parseWhileUploading` gives options, through an incremental CSV parser on the way.
 */
class CsvStorage implements multer.StorageEngine {
  private readonly streams = new WeakMap<Express.Multer.File, BatchedFileWriter>();

  constructor(
    private readonly dir: string,
    private readonly parseWhileUploading: UploadOptions['parseWhileUploading'],
    private readonly parseThreadFromBytes: number,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    if (file.stream.destroyed) {
      cb(new multer.MulterError('STREAM_DESTROYED' as multer.ErrorCode));
      return;
    }
    const filename = `${UPLOAD_PREFIX}${randomBytes(12).toString('hex')}${UPLOAD_SUFFIX}`;
    const finalPath = path.join(this.dir, filename);
    pathsByRequest.get(req)?.push(finalPath);
    let csvOptions: CsvOptions | null = null;
    try {
      csvOptions = this.parseWhileUploading?.(req) ?? null;
    } catch {
      csvOptions = null;
    }
    const declared = Number(req.headers['content-length']);
    const sizeHint = Number.isFinite(declared) ? declared : 0;
    let parser: UploadParser | null =
      csvOptions === null
        ? null
        : uploadParser({ ...csvOptions, sizeHint, maxRecordBytes: UPLOAD_PARSE_MAX_RECORD_BYTES }, sizeHint >= this.parseThreadFromBytes);
    const stopParsing = () => {
      parser?.abort();
      parser = null;
    };
    // Over the size limit the file is refused: no point parsing the rest.
    file.stream.once('limit', stopParsing);
    // Each chunk goes to the parser as the writer takes it (no stream stage of its own).
    const out = new BatchedFileWriter(finalPath, (chunk) => {
      if (parser === null) return;
      try {
        parser.push(chunk);
      } catch {
        stopParsing(); // the parse from disk will report it
      }
    });
    this.streams.set(file, out);
    // Set now (as multer's disk storage does) so an abort mid-stream removes this file too.
    file.path = finalPath;
    pipeline(file.stream, out, (err) => {
      if (err) {
        stopParsing();
        void whenClosed(out)
          .then(() => rm(finalPath, { force: true }))
          .catch(() => undefined)
          .then(() => cb(err));
        return;
      }
      const info = { destination: this.dir, filename, path: finalPath, size: out.bytesWritten };
      const finishing = parser;
      parser = null;
      if (finishing === null || csvOptions === null) {
        cb(null, info);
        return;
      }
      const parsedWith = csvOptions;
      finishing.end(finalPath).then(
        (table) => {
          parsedByRequest.set(req, { options: parsedWith, table });
          cb(null, info);
        },
        () => cb(null, info),
      );
    });
  }

  _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
    const out = this.streams.get(file);
    const target = file.path;
    if (out !== undefined && !out.closed) out.destroy();
    void (out === undefined ? Promise.resolve() : whenClosed(out))
      .then(() => rm(target, { force: true }))
      .then(
        () => cb(null),
        (err: Error) => cb(err),
      );
  }
}

/** Middleware that stores one CSV in `field` and puts it on req.file (multer's own contract). */
export function csvUpload(options: UploadOptions) {
  mkdirSync(options.dir, { recursive: true });
  const field = options.field ?? 'file';
  const storage = new CsvStorage(options.dir, options.parseWhileUploading, options.parseThreadFromBytes ?? 8 * 1024 * 1024);
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
