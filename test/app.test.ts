/** createApp on a fresh config: no uploads/, outputs/ or samples/ folder exists before it starts. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { flowCsv } from './helpers/csv.ts';
import { postCsv, startTestApp, type TestApp } from './helpers/app.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp({ realViews: true });
});
after(async () => t.close());

describe('a fresh app with none of its folders', () => {
  it('when it starts, then it serves pages, generates samples and analyses uploads, each folder made by its owner', async () => {
    // startTestApp's config points into an empty temp folder, and the store's start-up sweep makes nothing.
    assert.equal(existsSync(t.config.paths.outputs), false);
    assert.equal(existsSync(t.config.paths.uploads), true, 'the upload middleware makes uploads/ when it is built');

    const home = await fetch(`${t.url}/`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /Upload Network Traffic Data/);

    const generated = await fetch(`${t.url}/generate_data`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ start_date: '2024-01-15', duration: 1, seed: 3 }),
    });
    assert.equal(generated.status, 200);
    const sample = (await generated.json()) as { filename: string };
    assert.deepEqual(await readdir(t.store.samplesDir), [sample.filename, sample.filename.replace(/\.csv$/, '.meta.json')].sort());

    const analyzed = await postCsv(t.url, flowCsv());
    assert.equal(analyzed.status, 200);
    const { id } = (await analyzed.json()) as { id: string };
    assert.equal(existsSync(path.join(t.config.paths.outputs, id, 'summary.json')), true);
    await t.settled();
  });
});
