/**
 * A parse worker's state (src/ingest/parse-worker.ts), driven in this thread: it lets a parse's part
 * go as soon as `end` asks for it, keeps nothing of it once answered, and collects the parse's
 * garbage when the pool says the parse is over (`reset`).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import vm from 'node:vm';
import { after, describe, it } from 'node:test';
import { garbageCollector, type ParseWorkerResult, ParseWorkerState } from '../../src/ingest/parse-worker.ts';
import { BatchSplitter } from '../../src/ingest/split.ts';
import { flowCsv } from '../helpers/csv.ts';

const dir = await mkdtemp(join(tmpdir(), 'ingest-parse-worker-test-'));
after(() => rm(dir, { recursive: true, force: true }));

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('a parse worker\'s state', () => {
  it('when a parse ends and the pool resets it, then it holds no part, collects the garbage, and the part\'s arrays can be freed', async () => {
    const bytes = Buffer.from(flowCsv({ rows: 2000, anomalies: 10 }));
    const path = join(dir, 'flows.csv');
    await writeFile(path, bytes);
    const posted: ParseWorkerResult[] = [];
    let collections = 0;
    const state = new ParseWorkerState(
      (msg) => posted.push(msg),
      () => collections++,
    );
    state.handle({ kind: 'start', options: { sizeHint: bytes.length } });
    const splitter = new BatchSplitter((_w, msg) => state.handle(msg), 1, 4096);
    splitter.push(bytes);
    splitter.end();
    assert.ok(state.holdsPart);
    state.handle({ kind: 'end', source: path });
    assert.equal(state.holdsPart, false, 'let go as soon as end asks for it');
    while (!posted.some((m) => m.kind === 'part')) await nextTurn();

    // Weak references to every array of the answer; then the answer is dropped, as the merge drops it.
    const arrays = ((): WeakRef<object>[] => {
      const answer = posted.find((m) => m.kind === 'part');
      assert.ok(answer?.kind === 'part' && answer.result.ok && answer.result.table.rowCount > 2000);
      const { table } = answer.result;
      const views = [table.rowOffsets, table.lineNumbers, ...table.columns.map((c) => (c.kind === 'category' ? c.codes : c.values))];
      return views.map((v) => new WeakRef(v.buffer));
    })();
    posted.length = 0;
    assert.equal(collections, 0);
    state.handle({ kind: 'reset' });
    assert.equal(collections, 1, 'the reset collects the parse\'s garbage');

    // A weak reference holds its target until the current job ends: collect on a later turn.
    const gc = garbageCollector();
    await nextTurn();
    gc();
    await nextTurn();
    assert.deepEqual(
      arrays.map((ref) => ref.deref() === undefined),
      arrays.map(() => true),
      'nothing in the state keeps the part\'s arrays',
    );
  });

  it('when the collector is made, then it collects, and the flag that exposes it is off again for later contexts', () => {
    const gc = garbageCollector();
    gc();
    assert.equal((globalThis as { gc?: unknown }).gc, undefined);
    assert.equal(vm.runInNewContext('typeof gc'), 'undefined');
  });
});
