import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { createLogger, MemoryTransport } from '../../src/logging/index.ts';

describe('createLogger', () => {
  it('when a child logger is used, then every entry carries the analysis id', () => {
    const memory = new MemoryTransport();
    const logger = createLogger({ level: 'info', memory });
    logger.child({ analysisId: '20240115_080000_abcdef' }).info('step parse 12ms');
    logger.debug('hidden at info');
    assert.equal(memory.entries.length, 1);
    assert.equal(memory.entries[0].message, 'step parse 12ms');
    assert.equal(memory.entries[0].analysisId, '20240115_080000_abcdef');
    assert.equal(memory.entries[0].level, 'info');
  });

  it('when the level is silent, then nothing is logged', () => {
    const memory = new MemoryTransport();
    const logger = createLogger({ level: 'silent', memory });
    logger.error('nothing');
    assert.equal(memory.entries.length, 0);
  });

  it('when files are enabled, then errors with stacks go to error.log and everything to app.log', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-logs-'));
    try {
      const logger = createLogger({ level: 'info', dir, console: false });
      logger.info('hello');
      logger.error(new Error('boom'));
      await new Promise<void>((resolve) => {
        logger.on('finish', () => resolve());
        logger.end();
      });
      await new Promise((r) => setTimeout(r, 50));
      const app = (await readFile(path.join(dir, 'app.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const errors = (await readFile(path.join(dir, 'error.log'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(app.map((e) => e.message), ['hello', 'boom']);
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, 'boom');
      assert.match(String(errors[0].stack), /Error: boom\n\s+at /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
