import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import type { FaultlineEvent } from '../../functions/service/ports/event-publisher.ts';
import { PENDING_AFTER_MS, publishPendingAnomalies } from '../../functions/service/sensors/scoring.ts';
import { consumeStreamRecords, type RawStreamRecord } from '../../functions/service/sensors/stream-records.ts';
import type { Services } from '../../functions/service/services.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';
import { tableOf } from '../helpers/table.ts';

describe('sensors: no lost anomaly event, and nothing left of a deleted project', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  let assetId: string;
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const points = series(900, end, [300, 650]);
  const expected = engineAnomalies(points);
  let sequence = 7_000_000;

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${runtime.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return (await response.json()) as any;
  };
  const metric = async (name: string) =>
    (await post(`/projects/${projectId}/metrics`, { assetId, name, expectedIntervalSeconds: 60 })).id as string;
  /** The points as stream records of 50 points each, as the intake puts them on the stream. */
  const records = (project: string, metricId: string): RawStreamRecord[] => {
    const out: RawStreamRecord[] = [];
    for (let i = 0; i < points.length; i += 50) {
      const part = points.slice(i, i + 50);
      const record = { v: 1, projectId: project, metricId, t: part.map((p) => p.time), x: part.map((p) => p.value) };
      out.push({ sequenceNumber: String(sequence++), data: Buffer.from(JSON.stringify(record)) });
    }
    return out;
  };
  /** The runtime's services with a publisher that records events, failing the call numbered `failOn` (1-based). */
  const publishing = (failOn?: number) => {
    const published: FaultlineEvent[] = [];
    let calls = 0;
    const s: Services = {
      ...runtime.services,
      events: {
        publish: async (event) => {
          if (++calls === failOn) throw new Error('EventBridge unreachable');
          published.push(event);
        },
      },
    };
    return { s, published };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-sensors-rel-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
    // Records are handed to the consumer by the tests; the runtime's own poller has nothing to read.
    await runtime.points.poller.stop();
    projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).id;
    const siteId = (await post(`/projects/${projectId}/sites`, { name: 'Bremen' })).id;
    assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Press' })).id;
    expect(expected.length).toBeGreaterThan(1);
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('publishes every anomaly once when publishing fails mid-batch and the batch is read again', async () => {
    const metricId = await metric('torque');
    const batch = records(projectId, metricId);
    // the second anomaly's event fails: the first is out, the state is committed, the rest are stored unpublished
    const first = publishing(2);
    const outcome = await consumeStreamRecords(first.s, batch);
    expect(outcome.failedFrom).toBe(batch[0].sequenceNumber);
    expect(first.published).toHaveLength(1);
    const stored = await runtime.services.sensors.listAnomalies(projectId, { metricId }, 100);
    expect(stored.items).toHaveLength(expected.length);
    expect(
      await runtime.services.sensors.unpublishedAnomalies(new Date(Date.now() + 1).toISOString(), 100, metricId),
    ).toHaveLength(expected.length - 1);

    // Lambda reads the batch again from the reported record: nothing is scored twice, the rest is published
    const again = publishing();
    const second = await consumeStreamRecords(again.s, batch);
    expect(second).toMatchObject({ scored: 0 });
    expect(second.failedFrom).toBeUndefined();
    const all = [...first.published, ...again.published];
    const ids = stored.items.map((a) => `metric-anomaly_${projectId}_${a.id}`).sort();
    expect(all.map((e) => e.id).sort()).toEqual(ids);
    expect(all.every((e) => e.type === 'Metric Anomaly' && e.projectId === projectId)).toBe(true);
    expect((await runtime.services.sensors.listAnomalies(projectId, { metricId }, 100)).items).toHaveLength(
      expected.length,
    );
    // and a third reading publishes nothing more
    const third = publishing();
    await consumeStreamRecords(third.s, batch);
    expect(third.published).toEqual([]);
    // the API shows no bookkeeping
    expect(stored.items[0]).not.toHaveProperty('published');
  }, 60_000);

  it('publishes again with the same event id when the consumer died between publishing and marking it', async () => {
    const metricId = await metric('speed');
    const batch = records(projectId, metricId);
    const published: FaultlineEvent[] = [];
    let marks = 0;
    const s: Services = {
      ...runtime.services,
      events: { publish: async (e) => void published.push(e) },
      sensors: new Proxy(runtime.services.sensors, {
        get: (target, name) =>
          name === 'markAnomalyPublished'
            ? async (...a: [string, string]) => {
                if (++marks === 1) throw new Error('killed after publishing');
                return target.markAnomalyPublished(...a);
              }
            : Reflect.get(target, name),
      }),
    };
    expect((await consumeStreamRecords(s, batch)).failedFrom).toBeDefined();
    expect(published).toHaveLength(1);
    // nobody reads the records again (the batch went to the failure queue): the sweep publishes what is pending
    expect(await publishPendingAnomalies(s, { now: Date.now() + PENDING_AFTER_MS + 1000 })).toBe(expected.length);
    const ids = published.map((e) => e.id);
    expect(ids).toHaveLength(expected.length + 1);
    expect(ids.filter((id) => id === ids[0])).toHaveLength(2); // the same event twice, with the same id
    expect(new Set(ids).size).toBe(expected.length);
    expect(await publishPendingAnomalies(s, { now: Date.now() + PENDING_AFTER_MS + 1000 })).toBe(0);
  }, 60_000);

  it('deleting a sensors project leaves nothing of it in the table: detector states, points, anomalies, catalogue', async () => {
    const other = (await post('/projects', { name: 'doomed', kind: 'sensors' })).id as string;
    const siteId = (await post(`/projects/${other}/sites`, { name: 'Kiel' })).id;
    const asset = (await post(`/projects/${other}/assets`, { siteId, name: 'Fan' })).id;
    const metricIds: string[] = [];
    for (const name of ['a', 'b'])
      metricIds.push((await post(`/projects/${other}/metrics`, { assetId: asset, name })).id as string);
    for (const m of metricIds)
      expect((await consumeStreamRecords(runtime.services, records(other, m))).scored).toBe(900);
    const { db, table } = await tableOf(runtime);
    const scan = async () =>
      ((await db.send(new ScanCommand({ TableName: table }))).Items ?? []).filter(
        (item) =>
          item.pk === `PROJECT#${other}` ||
          metricIds.some((m) => item.pk === `SERIES#${m}`) ||
          item.projectId === other ||
          String(item.gsi1sk ?? '').includes(other),
      );
    const before = await scan();
    expect(before.some((i) => i.sk === 'STATE')).toBe(true);
    expect(before.some((i) => String(i.sk).startsWith('P#'))).toBe(true);
    expect(before.some((i) => String(i.sk).startsWith('ANOMALY#'))).toBe(true);

    const response = await fetch(`${runtime.url}/api/v1/projects/${other}?confirm=doomed`, {
      method: 'DELETE',
      headers: { 'x-api-key': runtime.apiKey! },
    });
    expect(response.status).toBe(200);
    expect(await scan()).toEqual([]);
    // points of the deleted project still on the stream change nothing
    expect((await consumeStreamRecords(runtime.services, records(other, metricIds[0]))).scored).toBe(0);
    expect(await scan()).toEqual([]);
  }, 60_000);
});
