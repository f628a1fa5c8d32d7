import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { seriesArchiveKey, seriesArchivePrefix } from '../../functions/service/object-keys.ts';
import { archiveOldPoints, decodeDay, utcDay } from '../../functions/service/sensors/point-archive.ts';
import type { Services } from '../../functions/service/services.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { waitFor } from '../helpers/wait-for.ts';

const DAY = 86_400_000;
const STEP = 30 * 60_000;

/**
 * Points older than the table's window move to one gzip CSV per metric and UTC day in the bucket, through the real
 * runtime (HTTP, kinesalite, dynalite, s3rver); the points query reads both without a gap or a double.
 */
describe('sensor points archived to S3', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  let assetId: string;
  const today = Math.floor(Date.now() / DAY) * DAY;
  // Half-hourly points from 10 days ago to 4 days ago: with the default 7 days, the oldest three days go to S3.
  const first = today - 10 * DAY;
  const times = Array.from({ length: (6 * DAY) / STEP }, (_, i) => first + i * STEP);
  const value = (t: number) => 20 + 3 * Math.sin(t / 3_600_000) + ((t / STEP) % 7) * 0.01;

  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${runtime.url}/api/v1${path}`, {
      ...init,
      headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const post = (path: string, body: unknown) => api(path, { method: 'POST', body: JSON.stringify(body) });
  const newMetric = async (name: string) => (await post(`/projects/${projectId}/metrics`, { assetId, name })).body.id;
  const send = async (metricId: string, ts: number[]) => {
    const before = (await runtime.services.series.getState(metricId))?.scored ?? 0;
    const sent = await post(
      `/projects/${projectId}/metrics/${metricId}/points`,
      ts.map((t) => ({ timestamp: t, value: value(t) })),
    );
    expect(sent.status).toBe(202);
    await waitFor(
      'points scored',
      async () =>
        (await runtime.services.series.getState(metricId))?.scored === before + ts.length ? true : undefined,
      30_000,
    );
  };
  const query = async (metricId: string, from: number, to: number, maxPoints = 2000) => {
    const r = await api(
      `/projects/${projectId}/metrics/${metricId}/points?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&maxPoints=${maxPoints}`,
    );
    expect(r.status).toBe(200);
    return r.body as { downsampled: boolean; points: { timestamp: string; value: number; count?: number }[] };
  };
  const archivedDays = async (metricId: string) =>
    (await runtime.services.objects.list(seriesArchivePrefix(projectId, metricId))).objects.map((o) => o.key).sort();
  const inTable = async (metricId: string, before: number) =>
    (await runtime.services.series.chunksBefore(metricId, before)).reduce((n, c) => n + c.chunk.time.length, 0);
  const inObject = async (metricId: string, day: string) => {
    const key = seriesArchiveKey(projectId, metricId, day);
    return decodeDay((await runtime.services.objects.get(key))!, key);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-archive-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
    projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).body.id;
    const siteId = (await post(`/projects/${projectId}/sites`, { name: 'Kiel' })).body.id;
    assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Fan' })).body.id;
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('moves old days to S3 and reads the range across both seamlessly; a second run changes nothing', async () => {
    const metricId = await newMetric('speed');
    await send(metricId, times);
    const whole = await query(metricId, first, today);
    expect(whole.points).toHaveLength(times.length);
    const coarse = await query(metricId, first - STEP / 3, today, 100);
    expect(coarse.downsampled).toBe(true);

    const outcome = await archiveOldPoints(runtime.services);
    const cutoff = today - 7 * DAY;
    const archived = times.filter((t) => t < cutoff).length;
    expect(outcome).toMatchObject({ ran: true, points: archived, days: 3 });
    expect(await archivedDays(metricId)).toEqual(
      [0, 1, 2].map((d) => seriesArchiveKey(projectId, metricId, utcDay(first + d * DAY))),
    );
    expect(await inTable(metricId, cutoff)).toBe(0);
    expect(await inTable(metricId, today)).toBe(times.length - archived);
    // the same answer as before, raw and downsampled: no gap and no double at the boundary between S3 and the table
    expect(await query(metricId, first, today)).toEqual(whole);
    expect(await query(metricId, first - STEP / 3, today, 100)).toEqual(coarse);
    const boundary = await query(metricId, cutoff - 2 * STEP, cutoff + STEP);
    expect(boundary.points.map((p) => Date.parse(p.timestamp))).toEqual([
      cutoff - 2 * STEP,
      cutoff - STEP,
      cutoff,
      cutoff + STEP,
    ]);

    const bytes = await runtime.services.objects.get(seriesArchiveKey(projectId, metricId, utcDay(first)));
    expect(await archiveOldPoints(runtime.services)).toMatchObject({ ran: true, points: 0, days: 0 });
    expect(await runtime.services.objects.get(seriesArchiveKey(projectId, metricId, utcDay(first)))).toEqual(bytes);
    expect(await query(metricId, first, today)).toEqual(whole);
  }, 120_000);

  it('loses and doubles nothing when the job dies between writing a day and deleting it from the table', async () => {
    const metricId = await newMetric('pressure');
    await send(metricId, times);
    const whole = await query(metricId, first, today);
    // A fake clock three days on: the days up to 4 days ago are due. The run dies at its first delete.
    const later = Date.now() + 3 * DAY;
    const dying: Services = {
      ...runtime.services,
      series: Object.assign(Object.create(runtime.services.series), {
        deleteChunks: (id: string, chunks: never[]) =>
          id === metricId ? Promise.reject(new Error('killed')) : runtime.services.series.deleteChunks(id, chunks),
      }),
    };
    await expect(archiveOldPoints(dying, later)).rejects.toThrow('killed');
    const day = utcDay(first);
    expect((await inObject(metricId, day)).time.length).toBe(DAY / STEP); // written ...
    expect(await inTable(metricId, first + DAY)).toBe(DAY / STEP); // ... and still in the table
    expect(await query(metricId, first, today)).toEqual(whole); // read once, not twice

    // the lease of the run that died is released in its finally; the next run finishes the job
    expect(await archiveOldPoints(runtime.services, later)).toMatchObject({ ran: true });
    expect(await inTable(metricId, today)).toBe(0);
    expect((await inObject(metricId, day)).time).toEqual(times.filter((t) => utcDay(t) === day));
    expect(await query(metricId, first, today)).toEqual(whole);
  }, 120_000);

  it('merges points that arrive late for an archived day into its object', async () => {
    const metricId = await newMetric('flow');
    const day = first + DAY;
    const morning = times.filter((t) => t >= day && t < day + DAY / 2);
    const evening = times.filter((t) => t >= day + DAY / 2 && t < day + DAY);
    await send(metricId, morning);
    await archiveOldPoints(runtime.services);
    expect((await inObject(metricId, utcDay(day))).time).toEqual(morning);
    // the device comes back with the rest of that day: scored, kept in the table, queryable at once
    await send(metricId, evening);
    expect((await query(metricId, day, day + DAY)).points).toHaveLength(morning.length + evening.length);
    await archiveOldPoints(runtime.services);
    expect((await inObject(metricId, utcDay(day))).time).toEqual([...morning, ...evening]);
    expect(await inTable(metricId, today)).toBe(0);
    expect((await query(metricId, day, day + DAY)).points.map((p) => Date.parse(p.timestamp))).toEqual([
      ...morning,
      ...evening,
    ]);
  }, 120_000);

  it('lets one run at a time through, and removes a deleted metric archive', async () => {
    const now = Date.now();
    expect(await runtime.services.series.claimArchiveRun('someone', now, now + 60_000)).toBe(true);
    expect(await archiveOldPoints(runtime.services, now)).toEqual({ ran: false, metrics: 0, days: 0, points: 0 });
    // a holder that died frees the job when its claim runs out
    expect(await archiveOldPoints(runtime.services, now + 120_000)).toMatchObject({ ran: true });

    const metricId = await newMetric('gone');
    await send(metricId, times.slice(0, 20));
    await archiveOldPoints(runtime.services);
    expect(await archivedDays(metricId)).toHaveLength(1);
    expect((await api(`/projects/${projectId}/metrics/${metricId}`, { method: 'DELETE' })).status).toBe(200);
    expect(await archivedDays(metricId)).toEqual([]);
  }, 120_000);
});
