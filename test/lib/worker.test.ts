/** startModuleWorker from sources (tsx): the worker loads TypeScript however the parent process was started. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import { runEvalModule, runModule } from '../helpers/child.ts';

const dir = await mkdtemp(join(tmpdir(), 'worker-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const workerModule = JSON.stringify(pathToFileURL(join(import.meta.dirname, '..', '..', 'src', 'lib', 'worker.ts')).href);
// Starts ./typed-worker.ts beside this test and exits 0 only on its answer (a failed start rejects: exit 1).
const child = `import { startModuleWorker } from ${workerModule};
const worker = startModuleWorker('typed-worker', ${JSON.stringify(import.meta.url)});
const answer = await new Promise((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});
await worker.terminate();
if (answer !== 'tsx: 42') process.exit(3);
`;

describe('startModuleWorker under tsx', () => {
  it('when the parent runs a module file, then the worker runs its TypeScript module', async () => {
    assert.equal(await runModule(dir, child), 0);
  });

  it('when the parent runs eval code with --input-type=module, then the worker runs its TypeScript module', async () => {
    // The worker inherits --input-type=module: an eval'd CommonJS bootstrap failed there ("require is not defined").
    assert.equal(await runEvalModule(child), 0);
  });
});
