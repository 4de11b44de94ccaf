/** The score worker pool never keeps a process alive when it has nothing to do. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = await mkdtemp(join(tmpdir(), 'score-pool-test-'));
after(() => rm(dir, { recursive: true, force: true }));
let fileNo = 0;

/** Runs `code` (an ES module) in a child process; its exit code, or 'hung'. */
async function run(code: string): Promise<number | 'hung'> {
  // A file, not `-e`: the workers' tsx bootstrap is CommonJS, and `--input-type=module` would reach them.
  const script = join(dir, `child${fileNo++}.mts`);
  await writeFile(script, code);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('hung');
    }, 30_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c ?? -1);
    });
  });
}

describe('the score pool and the process', () => {
  const detection = JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'detection', 'index.ts'));
  it('when the pool is warmed (and has scored), then the process exits by itself', async () => {
    // The warm-up is awaited to the end (a top-level await left waiting exits with 13), then nothing holds the process.
    const warmed = `import { warmScorePool } from ${detection};\nawait warmScorePool(2);\n`;
    const scored = `import { AnomalyModel, warmScorePool } from ${detection};
await warmScorePool(2);
const col = Float64Array.from({ length: 40_000 }, (_, i) => (i * 7919) % 1000);
const fit = await AnomalyModel.fit(['a', 'b'], [col, col.map((v) => v * 2)], { randomState: 1 }, { workers: 2 });
if (fit.scores.length !== 40_000) process.exit(3);
`;
    assert.deepEqual(await Promise.all([run(warmed), run(scored)]), [0, 0]);
  });
});
