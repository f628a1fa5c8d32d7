import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { testSettings } from '../helpers/local-runtime.ts';

/** What `npm start` takes from the environment reaches the service as the README's settings table says. */
describe('the local runtime’s settings', () => {
  const runtimes: LocalRuntime[] = [];
  const folders: string[] = [];
  afterAll(async () => {
    for (const r of runtimes) await r.stop();
    for (const f of folders) await rm(f, { recursive: true, force: true });
  });
  const start = async (extra: Record<string, string> = {}) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'faultline-settings-'));
    folders.push(dataDir);
    const runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '0', ...extra }), silentLog);
    runtimes.push(runtime);
    return runtime;
  };

  it('keeps models in DATA_DIR/model-cache, or in FAULTLINE_MODEL_CACHE_DIR when given', async () => {
    const plain = await start();
    expect(plain.services.config.FAULTLINE_MODEL_CACHE_DIR).toBe(join(plain.dataDir, 'model-cache'));
    const cache = await mkdtemp(join(tmpdir(), 'faultline-cache-'));
    folders.push(cache);
    const given = await start({ FAULTLINE_MODEL_CACHE_DIR: cache, FAULTLINE_PRESIGN_SECONDS: '60' });
    expect(given.services.config.FAULTLINE_MODEL_CACHE_DIR).toBe(cache);
    expect(given.services.config.FAULTLINE_PRESIGN_SECONDS).toBe(60);
  });
});
