/** The real entry point as a child process: bad config, graceful shutdown, cluster workers. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from './helpers/paths.ts';

let dir: string;
let configPath: string;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-server-'));
  const base = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'config.json'), 'utf8')) as Record<string, unknown>;
  configPath = path.join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify({ ...base, paths: { uploads: 'uploads', outputs: 'outputs', logs: 'logs' }, logging: { level: 'info', files: true } }));
});
after(async () => rm(dir, { recursive: true, force: true }));

interface Child {
  readonly proc: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function start(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'src', 'server.ts')], {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'production', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

async function waitFor(child: Child, pattern: RegExp, count = 1, ms = 30_000): Promise<RegExpMatchArray[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const matches = [...child.output().matchAll(new RegExp(pattern, 'g'))];
    if (matches.length >= count) return matches;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('server.ts', () => {
  it('when the config has a bad key, then it exits 1 naming the key', async () => {
    const bad = path.join(dir, 'bad.json');
    const base = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
    await writeFile(bad, JSON.stringify({ ...base, n_estimators: 0 }));
    const child = start({ CONFIG: bad });
    assert.equal(await child.exited, 1);
    assert.match(child.output(), /n_estimators/);
  });

  it('when SIGTERM arrives, then it stops cleanly with exit code 0', async () => {
    const child = start({ CONFIG: configPath, WORKERS: '1' });
    const [m] = await waitFor(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const res = await fetch(`${m[1]}/health`);
    assert.equal(res.status, 200);
    // The worker threads warmed at start report ready soon after.
    let workers: unknown;
    for (let i = 0; i < 200; i++) {
      workers = ((await (await fetch(`${m[1]}/health`)).json()) as { workers?: unknown }).workers;
      if (JSON.stringify(workers) === JSON.stringify({ detector: 'ready', parser: 'ready' })) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(workers, { detector: 'ready', parser: 'ready' });
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    assert.match(child.output(), /shut down cleanly/);
    const appLog = await readFile(path.join(dir, 'logs', 'app.log'), 'utf8');
    assert.match(appLog, /"message":"GET \/health 200/);
  });

  it('when WORKERS=2, then two workers serve and SIGTERM stops them all', async () => {
    const child = start({ CONFIG: configPath, WORKERS: '2' });
    const matches = await waitFor(child, /listening on (http:\/\/127\.0\.0\.1:\d+) \(pid (\d+)/, 2);
    const pids = new Set(matches.map((m) => m[2]));
    assert.equal(pids.size, 2);
    const url = matches[0][1];
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${url}/health`)).status, 200);
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    await waitFor(child, /shut down cleanly/, 2, 1000);
  });
});
