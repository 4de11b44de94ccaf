import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ANALYSIS_ID_PATTERN } from '../../src/analysis/types.ts';
import { AnalysisStore, isAnalysisId, isSampleFileName, makeId } from '../../src/storage/index.ts';

let dir: string;
let store: AnalysisStore;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-store-'));
  store = new AnalysisStore(dir);
  await store.init();
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

function summary(id: string, createdAt: string, anomalies: number) {
  return {
    id,
    createdAt,
    fileName: `${id}.csv`,
    statistics: { total_records: 100, anomaly_count: anomalies, anomaly_percentage: anomalies },
    incidents: [{ id: 'INC-001' }],
  };
}

describe('ids', () => {
  it('when an id is made, then it is YYYYMMDD_HHMMSS_ + 6 hex in UTC and matches the shared pattern', () => {
    const id = makeId(new Date(Date.UTC(2024, 0, 15, 8, 5, 9)));
    assert.match(id, /^20240115_080509_[0-9a-f]{6}$/);
    assert.ok(ANALYSIS_ID_PATTERN.test(id));
  });

  it('when ids or sample names are malformed, then they are rejected', () => {
    for (const bad of ['../etc', '20240115_080509_ABCDEF', '20240115_080509_abcde', '20240115_080509_abcdef/..', '', 'x']) {
      assert.equal(isAnalysisId(bad), false, bad);
    }
    assert.equal(isSampleFileName('sample_20240115_080509_abcdef.csv'), true);
    for (const bad of ['sample_20240115_080509_abcdef.csv.exe', '../sample_20240115_080509_abcdef.csv', 'sample.csv']) {
      assert.equal(isSampleFileName(bad), false, bad);
    }
    assert.throws(() => store.dirOf('../../etc'), /invalid analysis id/);
    assert.equal(store.samplePath('../../etc/passwd'), null);
  });

  it('when 200 ids are taken in the same second, then they are all distinct', async () => {
    const now = new Date();
    const ids = await Promise.all(Array.from({ length: 200 }, () => store.begin(now)));
    assert.equal(new Set(ids.map((i) => i.id)).size, 200);
    await Promise.all(ids.map((i) => store.abort(i.id)));
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('AnalysisStore', () => {
  it('when an analysis is committed, then it moves from .tmp-<id> to <id> and is listed', async () => {
    const { id, dir: tmp } = await store.begin();
    assert.equal(path.basename(tmp), `.tmp-${id}`);
    await writeFile(path.join(tmp, 'summary.json'), JSON.stringify(summary(id, '2024-01-15T08:00:00.000Z', 3)));
    assert.equal(await store.exists(id), false);
    assert.deepEqual(await store.list(), []);
    await store.commit(id);
    assert.equal(existsSync(tmp), false);
    assert.equal(await store.exists(id), true);
    assert.deepEqual(await store.list(), [
      { id, createdAt: '2024-01-15T08:00:00.000Z', fileName: `${id}.csv`, total_records: 100, anomaly_count: 3, anomaly_percentage: 3, incidents: 1 },
    ]);
    assert.equal((await store.readSummary(id))?.id, id);
  });

  it('when several analyses exist, then the list is newest first and skips foreign folders', async () => {
    for (const [created, n] of [
      ['2024-01-15T08:00:00.000Z', 1],
      ['2024-03-01T08:00:00.000Z', 2],
      ['2024-02-01T08:00:00.000Z', 3],
    ] as const) {
      const { id, dir: tmp } = await store.begin();
      await writeFile(path.join(tmp, 'summary.json'), JSON.stringify(summary(id, created, n)));
      await store.commit(id);
    }
    await mkdir(path.join(dir, 'not-an-id'));
    assert.deepEqual((await store.list()).map((i) => i.anomaly_count), [2, 3, 1]);
  });

  it('when only the newest few are asked for, then the newest by id come, newest first', async () => {
    const ids: string[] = [];
    for (let k = 0; k < 8; k++) {
      const { id, dir: tmp } = await store.begin(new Date(Date.UTC(2024, 0, 15, 8, 0, k)));
      await writeFile(path.join(tmp, 'summary.json'), JSON.stringify(summary(id, `2024-01-15T08:00:0${k}.500Z`, k)));
      await store.commit(id);
      ids.push(id);
    }
    // An analysis whose summary is unreadable is not listed.
    await writeFile(path.join(dir, ids[0], 'summary.json'), '{ not json');
    const fresh = new AnalysisStore(dir);
    assert.deepEqual((await fresh.list({ limit: 5 })).map((i) => i.anomaly_count), [7, 6, 5, 4, 3]);
    assert.deepEqual((await fresh.list({ limit: 3 })).map((i) => i.id), [ids[7], ids[6], ids[5]]);
    assert.deepEqual((await fresh.list()).map((i) => i.anomaly_count), [7, 6, 5, 4, 3, 2, 1]);
  });

  it('when an analysis is aborted, then its temp folder is gone', async () => {
    const { id, dir: tmp } = await store.begin();
    await writeFile(path.join(tmp, 'input.csv'), 'a\n1\n');
    await store.abort(id);
    assert.equal(existsSync(tmp), false);
    assert.equal(await store.readSummary(id), null);
  });

  it('when the store starts, then temp folders left by a crash are removed', async () => {
    await mkdir(path.join(dir, '.tmp-20240115_080000_abcdef'));
    await writeFile(path.join(dir, '.tmp-20240115_080000_abcdef', 'input.csv'), 'x');
    await store.init();
    assert.deepEqual(await readdir(dir), []);
  });

  it('when the store starts on folders that do not exist, then it sweeps nothing and makes nothing', async () => {
    const fresh = new AnalysisStore(path.join(dir, 'never-made'));
    await fresh.init();
    assert.equal(existsSync(fresh.outputsDir), false);
    assert.deepEqual(await fresh.list(), []);
  });

  it('when a fresh store allocates an analysis or a sample, then it makes the folder that holds it', async () => {
    const fresh = new AnalysisStore(path.join(dir, 'fresh', 'outputs'));
    const { id, dir: tmp } = await fresh.begin();
    assert.equal(existsSync(tmp), true);
    await fresh.abort(id);
    assert.equal(existsSync(fresh.samplesDir), false);
    const { path: p } = fresh.newSampleName();
    assert.equal(path.dirname(p), fresh.samplesDir);
    assert.equal(existsSync(fresh.samplesDir), true);
  });

  it('when the store starts, then temp sample files left by a crash are removed and finished samples kept', async () => {
    await mkdir(path.join(dir, 'samples'));
    await writeFile(path.join(dir, 'samples', '.tmp-sample_20240115_080000_abcdef.csv'), 'partial');
    await writeFile(path.join(dir, 'samples', 'sample_20240115_080000_abcdef.csv'), 'done');
    await store.init();
    assert.deepEqual(await readdir(path.join(dir, 'samples')), ['sample_20240115_080000_abcdef.csv']);
  });

  it('when a process starts, then partial uploads a crash left are removed and other files kept', async () => {
    const { sweepPartialUploads } = await import('../../src/web/upload.ts');
    const uploads = path.join(dir, 'uploads');
    await mkdir(uploads);
    await writeFile(path.join(uploads, 'upload-0123456789abcdef01234567.part'), 'half a file');
    await writeFile(path.join(uploads, 'notes.txt'), 'not ours');
    assert.equal(await sweepPartialUploads(uploads), 1);
    assert.deepEqual(await readdir(uploads), ['notes.txt']);
    assert.equal(await sweepPartialUploads(path.join(dir, 'missing')), 0, 'a missing folder is fine');
  });

  it('when a sample name is made, then it matches the sample pattern under outputs/samples', () => {
    const { name, path: p } = store.newSampleName(new Date(Date.UTC(2024, 0, 15)));
    assert.match(name, /^sample_20240115_000000_[0-9a-f]{6}\.csv$/);
    assert.equal(p, path.join(dir, 'samples', name));
    assert.equal(store.samplePath(name), p);
  });
});
