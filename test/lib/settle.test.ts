import assert from 'node:assert/strict';
import { test } from 'node:test';
import { settleAll } from '../../src/lib/settle.ts';

test('settleAll gives the values in order when every promise fulfils', async () => {
  assert.deepEqual(await settleAll([Promise.resolve(1), new Promise((r) => setTimeout(() => r(2), 5)), Promise.resolve(3)]), [1, 2, 3]);
});

test('settleAll waits for the slow ones before throwing the first error in the order given', async () => {
  let slowDone = false;
  const slow = new Promise<void>((r) => setTimeout(() => ((slowDone = true), r()), 20));
  await assert.rejects(settleAll([Promise.resolve(), Promise.reject(new Error('first')), slow, Promise.reject(new Error('second'))]), /first/);
  assert.equal(slowDone, true, 'nothing left running');
});
