import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnalysisQueue, QueueClosedError, QueueFullError } from '../../src/analysis/queue.ts';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('AnalysisQueue', () => {
  it('when tasks are queued, then they run one at a time in order', async () => {
    const queue = new AnalysisQueue({ concurrency: 1, maxWaiting: 8 });
    const order: string[] = [];
    let active = 0;
    let maxActive = 0;
    const task = (name: string) => async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      order.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push(`end ${name}`);
      active--;
      return name;
    };
    const results = await Promise.all([queue.run(task('a')), queue.run(task('b')), queue.run(task('c'))]);
    assert.deepEqual(results, ['a', 'b', 'c']);
    assert.equal(maxActive, 1);
    assert.deepEqual(order, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('when more than maxWaiting wait, then the next is refused with QueueFullError', async () => {
    const queue = new AnalysisQueue({ concurrency: 1, maxWaiting: 2 });
    const gate = deferred();
    const running = queue.run(() => gate.promise);
    const waiting = [queue.run(async () => 1), queue.run(async () => 2)];
    assert.equal(queue.running, 1);
    assert.equal(queue.waiting, 2);
    await assert.rejects(queue.run(async () => 3), (err: unknown) => err instanceof QueueFullError && err.waiting === 2 && err.limit === 2);
    gate.resolve();
    await running;
    assert.deepEqual(await Promise.all(waiting), [1, 2]);
  });

  it('when a task fails, then its caller gets the error and the queue goes on', async () => {
    const queue = new AnalysisQueue();
    await assert.rejects(queue.run(async () => Promise.reject(new Error('bad file'))), /bad file/);
    await assert.rejects(
      queue.run(() => {
        throw new Error('sync throw');
      }),
      /sync throw/,
    );
    assert.equal(await queue.run(async () => 'next'), 'next');
  });

  it('when closed, then queued work finishes and new work is refused', async () => {
    const queue = new AnalysisQueue();
    const gate = deferred();
    let finished = false;
    const running = queue.run(async () => {
      await gate.promise;
      finished = true;
    });
    const closing = queue.close();
    await assert.rejects(queue.run(async () => 1), QueueClosedError);
    gate.resolve();
    await closing;
    await running;
    assert.equal(finished, true);
  });
});
