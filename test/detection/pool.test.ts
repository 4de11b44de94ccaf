/** The score worker pool never keeps a process alive when it has nothing to do. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runModule } from '../helpers/child.ts';

const dir = await mkdtemp(join(tmpdir(), 'score-pool-test-'));
after(() => rm(dir, { recursive: true, force: true }));
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
    assert.deepEqual(await Promise.all([runModule(dir, warmed), runModule(dir, scored)]), [0, 0]);
  });
});
