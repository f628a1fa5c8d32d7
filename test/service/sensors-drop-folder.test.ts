import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { recoverUnfinishedWork } from '../../functions/service/jobs/recovery.ts';
import { silentLog } from '../../functions/service/log.ts';
import type { Services } from '../../functions/service/services.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { MINUTE, series } from '../helpers/sensor-series.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** CSV files dropped under metrics/{siteId}/ in the bucket: streamed onto the point stream, or set aside with the reason. */
describe('the sensors drop folder', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  let siteId: string;
  const metrics: { id: string; name: string }[] = [];

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${runtime.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as any;
  };
  const scored = async (id: string) => (await runtime.services.series.getState(id))?.scored ?? 0;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-metrics-drop-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
    projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).id;
    siteId = (await post(`/projects/${projectId}/sites`, { name: 'Kiel' })).id;
    const assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Fan' })).id;
    for (const name of ['current', 'voltage'])
      metrics.push(await post(`/projects/${projectId}/metrics`, { assetId, name }));
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('streams a CSV of several metrics (by name or id) onto the stream, scores every point and removes the file', async () => {
    const points = series(600, Math.floor(Date.now() / MINUTE) * MINUTE, [400]);
    const lines = ['metric,timestamp,value'];
    for (const p of points) {
      lines.push(`current,${new Date(p.time).toISOString()},${p.value}`);
      lines.push(`${metrics[1].id},${p.time},${p.value * 10}`);
    }
    const key = `metrics/${siteId}/2026-12-01.csv`;
    await runtime.services.objects.put(key, lines.join('\n'), 'text/csv');
    await waitFor(
      'every point scored',
      async () => ((await scored(metrics[0].id)) === 600 && (await scored(metrics[1].id)) === 600 ? true : undefined),
      30_000,
    );
    expect(await runtime.services.objects.head(key)).toBeUndefined();
  }, 60_000);

  it('sets aside a file with a broken line, naming the line, and sends none of its points', async () => {
    const t0 = Date.now() - 10 * MINUTE;
    const cases = [
      {
        name: 'broken.csv',
        body: `current,${t0},1\ncurrent,${t0 + MINUTE},not-a-number\n`,
        reason: /line 2: .*not a finite number/,
      },
      { name: 'unknown.csv', body: `current,${t0},1\npressure,${t0},2\n`, reason: /line 2: no metric "pressure"/ },
      {
        name: 'long.csv',
        body: `current,${t0},${'9'.repeat(10 * 1024 * 1024)}\n`,
        reason: /line 1 is longer than 200/,
      },
      {
        name: 'future.csv',
        body: `current,${Date.now() + 86_400_000},1\n`,
        reason: /line 1: the point is in the future/,
      },
    ];
    const before = await scored(metrics[0].id);
    for (const c of cases) {
      const key = `metrics/${siteId}/bad/${c.name}`;
      await runtime.services.objects.put(key, c.body, 'text/csv');
      const aside = `rejected/${projectId}/${key}`;
      await waitFor(`${c.name} set aside`, () => runtime.services.objects.head(aside), 20_000);
      const kept = await fetch(await runtime.services.objects.presignGet(aside, 60));
      expect(kept.headers.get('x-amz-meta-faultline-reason'), c.name).toMatch(c.reason);
      expect(await runtime.services.objects.head(key)).toBeUndefined();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(await scored(metrics[0].id)).toBe(before);
  }, 60_000);

  it('queues the files still in the folder again at start (their notifications were in the in-memory queue)', async () => {
    // a file for a site that does not exist stays where it is: it stands for one left unread by a stopped runtime
    const key = `metrics/no-such-site/left.csv`;
    await runtime.services.objects.put(key, `current,${Date.now() - MINUTE},1\n`, 'text/csv');
    await new Promise((r) => setTimeout(r, 500));
    expect(await runtime.services.objects.head(key)).toBeDefined();
    const sent: unknown[] = [];
    const spy: Services = {
      ...runtime.services,
      queue: new Proxy(runtime.services.queue, {
        get: (target, name) => (name === 'send' ? async (m: unknown) => void sent.push(m) : Reflect.get(target, name)),
      }),
    };
    await recoverUnfinishedWork(spy, runtime.services.objects.bucket, silentLog);
    expect(JSON.stringify(sent)).toContain(key);
  }, 30_000);
});
