/**
 * One winston logger factory: console plus logs/app.log and logs/error.log (errors with stacks),
 * HTTP access lines through the same logger, and a memory transport so tests can assert what was
 * logged. Child loggers carry the analysis id on every line about an analysis.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import winston from 'winston';
import Transport from 'winston-transport';
import type { LogLevel } from '../config/index.ts';

export type Logger = winston.Logger;

export interface LogEntry {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

/** Keeps every entry in memory: `entries` for assertions in tests. */
export class MemoryTransport extends Transport {
  readonly entries: LogEntry[] = [];
  override log(info: Record<string | symbol, unknown>, callback: () => void): void {
    const entry: Record<string, unknown> = {};
    for (const key of Object.keys(info)) entry[key] = info[key];
    this.entries.push(entry as unknown as LogEntry);
    callback();
  }
  clear(): void {
    this.entries.length = 0;
  }
  /** Entries whose message contains `text` (and whose level matches, if given). */
  find(text: string, level?: string): LogEntry[] {
    return this.entries.filter((e) => String(e.message).includes(text) && (level === undefined || e.level === level));
  }
}

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Directory for app.log / error.log; omit for no files. */
  readonly dir?: string | null;
  /** Console output (default true unless a memory transport is given). */
  readonly console?: boolean;
  /** Extra transport (tests pass a MemoryTransport). */
  readonly memory?: MemoryTransport;
  /** JSON lines on the console instead of the human format (production). */
  readonly json?: boolean;
}

const human = winston.format.printf((info) => {
  const { level, message, timestamp, stack, analysisId, ...rest } = info as Record<string, unknown>;
  const id = analysisId ? ` [${String(analysisId)}]` : '';
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  const trace = stack ? `\n${String(stack)}` : '';
  return `${String(timestamp)} ${String(level)}${id}: ${String(message)}${extra}${trace}`;
});

/** Builds the app's logger. Level 'silent' logs nothing (winston's `silent` flag). */
export function createLogger(options: LoggerOptions): Logger {
  const silent = options.level === 'silent';
  const level = silent ? 'info' : options.level;
  const base = winston.format.combine(winston.format.errors({ stack: true }), winston.format.timestamp());
  const transports: winston.transport[] = [];
  if (options.console ?? !options.memory) {
    transports.push(
      new winston.transports.Console({
        format: options.json ? winston.format.json() : winston.format.combine(winston.format.colorize(), human),
        stderrLevels: ['error'],
      }),
    );
  }
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true });
    transports.push(
      new winston.transports.File({ filename: path.join(options.dir, 'app.log'), format: winston.format.json() }),
      new winston.transports.File({ filename: path.join(options.dir, 'error.log'), level: 'error', format: winston.format.json() }),
    );
  }
  if (options.memory) transports.push(options.memory);
  return winston.createLogger({ level, silent, format: base, transports });
}

/** Flushes and closes every transport (call before process.exit so the last lines reach the files). */
export async function closeLogger(logger: Logger, timeoutMs = 2000): Promise<void> {
  const finished = logger.transports.map((t) => new Promise<void>((resolve) => t.once('finish', () => resolve())));
  logger.end();
  await Promise.race([Promise.all(finished), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
}

/** HTTP access lines through the app logger (level 'info', so the default level shows them): method, url, status, bytes, ms. */
export function accessLog(logger: Logger) {
  return function accessLogMiddleware(req: Request, res: Response, next: NextFunction): void {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const length = res.getHeader('content-length');
      logger.info(`${req.method} ${req.originalUrl} ${res.statusCode} ${Math.round(ms)}ms`, {
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        bytes: length === undefined ? null : Number(length),
        ...(res.locals.analysisId ? { analysisId: res.locals.analysisId } : {}),
      });
    });
    next();
  };
}
