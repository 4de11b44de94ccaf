import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { PROJECT_ROOT } from '../helpers/paths.ts';

let dir: string;
let base: Record<string, unknown>;

async function writeConfig(value: unknown): Promise<string> {
  const p = path.join(dir, `config-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(p, typeof value === 'string' ? value : JSON.stringify(value));
  return p;
}

function expectConfigError(fn: () => unknown, keyPath: string): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.ok(err.message.includes(keyPath), `message should name ${keyPath}: ${err.message}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'flowsentry-config-'));
  base = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'config.json'), 'utf8')) as Record<string, unknown>;
});
after(async () => rm(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('when the project config.json is read, then every key is typed and the object is frozen', () => {
    const config = loadConfig({ path: path.join(PROJECT_ROOT, 'config.json') });
    assert.deepEqual(config.detection, {
      features: ['bytes_transferred', 'packet_count', 'connection_duration', 'bytes_per_packet', 'packets_per_second', 'retransmission_rate'],
      contamination: 0.05,
      nEstimators: 100,
      randomState: 42,
    });
    assert.deepEqual(config.charts, {
      scatter: { figsize: [12, 8], alpha: 0.6, colors: { normal: '#1f77b4', anomaly: '#d62728' } },
      distribution: { figsize: [12, 6], bins: 50 },
    });
    assert.equal(config.server.port, 5000);
    assert.equal(config.server.maxUploadBytes, 512 * 1024 * 1024);
    assert.equal(config.paths.outputs, path.join(PROJECT_ROOT, 'outputs'));
    assert.equal(config.env, 'development');
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.detection.features) && Object.isFrozen(config.charts.scatter.colors));
    assert.throws(() => {
      (config.server as { port: number }).port = 1;
    }, TypeError);
  });

  it('when env overrides are given, then PORT, HOST, LOG_LEVEL, WORKERS, NODE_ENV and CONFIG win', async () => {
    const p = await writeConfig({ ...base, n_estimators: 7 });
    const config = loadConfig({
      env: { PORT: '8123', HOST: '127.0.0.1', LOG_LEVEL: 'debug', WORKERS: '3', NODE_ENV: 'production', CONFIG: p },
    });
    assert.equal(config.server.port, 8123);
    assert.equal(config.server.host, '127.0.0.1');
    assert.equal(config.logging.level, 'debug');
    assert.equal(config.server.workers, 3);
    assert.equal(config.env, 'production');
    assert.equal(config.detection.nEstimators, 7);
    assert.equal(config.configPath, p);
  });

  it('when an env override is invalid, then the error names the variable', () => {
    expectConfigError(() => loadConfig({ path: path.join(PROJECT_ROOT, 'config.json'), env: { PORT: 'eighty' } }), 'PORT');
    expectConfigError(() => loadConfig({ path: path.join(PROJECT_ROOT, 'config.json'), env: { LOG_LEVEL: 'loud' } }), 'LOG_LEVEL');
  });

  it('when colors are given as an array [normal, anomaly], then they are accepted', async () => {
    const viz = base.visualization as Record<string, Record<string, unknown>>;
    const p = await writeConfig({ ...base, visualization: { ...viz, scatter_plot: { ...viz.scatter_plot, colors: ['#00ff00', '#ff0000'] } } });
    assert.deepEqual(loadConfig({ path: p }).charts.scatter.colors, { normal: '#00ff00', anomaly: '#ff0000' });
  });

  it('when contamination is "auto", then it is kept as "auto"', async () => {
    const p = await writeConfig({ ...base, contamination: 'auto' });
    assert.equal(loadConfig({ path: p }).detection.contamination, 'auto');
  });

  it('when an unknown key is present, then the error names it', async () => {
    const p = await writeConfig({ ...base, n_estimator: 10 });
    const err = expectConfigError(() => loadConfig({ path: p }), 'n_estimator');
    assert.match(err.message, /unknown key/);
  });

  it('when a nested value is out of range, then the error names the nested key', async () => {
    const viz = base.visualization as Record<string, Record<string, unknown>>;
    const p = await writeConfig({ ...base, visualization: { ...viz, scatter_plot: { ...viz.scatter_plot, alpha: 3 } } });
    expectConfigError(() => loadConfig({ path: p }), 'visualization.scatter_plot.alpha');
    const q = await writeConfig({ ...base, contamination: 0.9 });
    expectConfigError(() => loadConfig({ path: q }), 'contamination');
    const r = await writeConfig({ ...base, server: { port: 5000, max_upload_mb: -1 } });
    expectConfigError(() => loadConfig({ path: r }), 'server.max_upload_mb');
  });

  it('when a required key is missing, then the error names it', async () => {
    const { features: _features, ...rest } = base;
    const p = await writeConfig(rest);
    expectConfigError(() => loadConfig({ path: p }), 'features');
  });

  it('when the file is missing or not JSON, then a ConfigError says so', async () => {
    expectConfigError(() => loadConfig({ path: path.join(dir, 'nope.json') }), 'nope.json');
    const p = await writeConfig('{ "features": [');
    expectConfigError(() => loadConfig({ path: p }), 'not valid JSON');
  });

  it('when paths are relative, then they resolve against the config file folder', async () => {
    const p = await writeConfig({ ...base, paths: { uploads: 'u', outputs: 'o', logs: 'l' } });
    const config = loadConfig({ path: p });
    assert.deepEqual(config.paths, { uploads: path.join(dir, 'u'), outputs: path.join(dir, 'o'), logs: path.join(dir, 'l') });
  });
});
