import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { StreamPoller } from '../../functions/local/stream-poller.ts';
import { silentLog } from '../../functions/service/log.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';
import { waitFor } from '../helpers/wait-for.ts';

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) =>
  waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs);

/**
 * npm start stopped while points wait on the stream, and started again on the same data folder: kinesalite keeps the
 * accepted points, the consumer reads on from its checkpoint, and every point is scored exactly once.
 */
describe('the point stream across a restart of the runtime', () => {
  let dataDir: string;
  const running: LocalRuntime[] = [];
  afterAll(async () => {
    for (const r of running) await r.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps accepted points and scores each exactly once, reading on from the checkpoint', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-points-restart-'));
    const start = async () => {
      const r = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
      running.push(r);
      return r;
    };
    const first = await start();
    const post = async (path: string, body: unknown) => {
      const response = await fetch(`${first.url}/api/v1${path}`, {
        method: 'POST',
        headers: { 'x-api-key': first.apiKey!, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as any };
    };
    const projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).body.id;
    const siteId = (await post(`/projects/${projectId}/sites`, { name: 'Kiel' })).body.id;
    const assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Fan' })).body.id;
    const metricId = (await post(`/projects/${projectId}/metrics`, { assetId, name: 'current' })).body.id;

    // A slow consumer (one record a poll) stands in for the runtime's, so that points are still waiting at the stop.
    await first.points.poller.stop();
    const slow = new StreamPoller(first.services, first.points.client, first.points.streamName, {
      batchSize: 1,
      idleMs: 20,
    });
    const points = series(900, Math.floor(Date.now() / MINUTE) * MINUTE, [300, 650]);
    const records = 18;
    for (let i = 0; i < records; i++) {
      const part = points.slice(i * 50, (i + 1) * 50);
      const sent = await post(
        `/projects/${projectId}/metrics/${metricId}/points`,
        part.map((p) => ({ timestamp: p.time, value: p.value })),
      );
      expect(sent.status).toBe(202);
    }
    await slow.start();
    await until('some records scored', () => slow.stats.records >= 3, 20_000);
    await slow.stop();
    const readBefore = slow.stats.records;
    expect(readBefore).toBeLessThan(records);
    expect((await first.services.series.getState(metricId))?.scored).toBe(readBefore * 50);
    await first.stop();

    const second = await start();
    await until(
      'every point scored after the restart',
      async () => (await second.services.series.getState(metricId))?.scored === points.length,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500)); // anything doubled would show now
    expect(await second.services.series.getState(metricId)).toMatchObject({ scored: points.length, dropped: 0 });
    // read on from the checkpoint: the records scored before the stop are not read again
    expect(second.points.poller.stats.records).toBe(records - readBefore);
    const listed = await fetch(`${second.url}/api/v1/projects/${projectId}/anomalies?metricId=${metricId}&limit=100`, {
      headers: { 'x-api-key': second.apiKey! },
    }).then((r) => r.json() as Promise<{ items: { start: string; type: string }[] }>);
    const expected = engineAnomalies(points);
    expect(expected.length).toBeGreaterThan(0);
    expect(listed.items.map((a) => [a.start, a.type]).sort()).toEqual(expected.map((a) => [a.start, a.type]).sort());
  }, 120_000);
});
