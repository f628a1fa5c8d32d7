import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { StreamPoller } from '../../functions/local/stream-poller.ts';
import { silentLog } from '../../functions/service/log.ts';
import { consumeStreamRecords } from '../../functions/service/sensors/stream-records.ts';
import type { Services } from '../../functions/service/services.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';
import { waitFor } from '../helpers/wait-for.ts';

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs: number) =>
  waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs);

describe('sensors: sites, assets, metrics, points through the stream, anomalies, forecasts', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let projectId: string;
  let siteId: string;
  let assetId: string;
  let metricId: string;
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const points = series(900, end, [500, 700]);

  const api = async (path: string, init?: RequestInit & { key?: string }) => {
    const response = await fetch(`${runtime.url}/api/v1${path}`, {
      ...init,
      headers: {
        'x-api-key': init?.key ?? runtime.apiKey!,
        ...(init?.body && typeof init.body === 'string' && !init.headers ? { 'content-type': 'application/json' } : {}),
        ...(init?.headers as Record<string, string>),
      },
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  const post = (path: string, body: unknown, key?: string) =>
    api(path, { method: 'POST', body: JSON.stringify(body), key });
  const scored = async (id: string) => (await runtime.services.series.getState(id))?.scored ?? 0;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-sensors-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
    projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).body.id;
    siteId = (await post(`/projects/${projectId}/sites`, { name: 'Hamburg', timeZone: 'Europe/Berlin' })).body.id;
    assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Pump 1', kind: 'pump', tags: ['a'] })).body
      .id;
    metricId = (
      await post(`/projects/${projectId}/metrics`, {
        assetId,
        name: 'bearing temperature',
        unit: '°C',
        limits: { upper: 60 },
        expectedIntervalSeconds: 60,
      })
    ).body.id;
  }, 60_000);

  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps sites, assets and metrics with CRUD under the project', async () => {
    expect((await api(`/projects/${projectId}/sites`)).body.items.map((s: any) => s.name)).toEqual(['Hamburg']);
    const changed = await api(`/projects/${projectId}/sites/${siteId}`, {
      method: 'PATCH',
      body: JSON.stringify({ location: { latitude: 53.55, longitude: 10 } }),
    });
    expect(changed.body).toMatchObject({ name: 'Hamburg', timeZone: 'Europe/Berlin', location: { latitude: 53.55 } });
    expect((await post(`/projects/${projectId}/sites`, { name: 'x', timeZone: 'Mars/Olympus' })).status).toBe(400);
    expect((await post(`/projects/${projectId}/assets`, { siteId: crypto.randomUUID(), name: 'y' })).status).toBe(404);
    expect((await api(`/projects/${projectId}/metrics?assetId=${assetId}`)).body.items).toHaveLength(1);
    const image = (await post('/projects', { name: 'images' })).body.id;
    expect((await post(`/projects/${image}/sites`, { name: 'z' })).body.error.code).toBe('WRONG_PROJECT_KIND');
  });

  it('refuses bad points with a clear 4xx and takes nothing of the body', async () => {
    const at = (path: string, body: string, type = 'text/csv') =>
      api(path, { method: 'POST', body, headers: { 'content-type': type } });
    const m = `/projects/${projectId}/metrics/${metricId}/points`;
    const broken = await at(m, `timestamp,value\n${new Date(end).toISOString()},1\ngarbage\n`);
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/line 3/);
    expect((await at(m, `timestamp,value\n${new Date(end).toISOString()},warm\n`)).body.error.message).toMatch(
      /line 2: "warm" is not a finite number/,
    );
    expect((await at(m, 'x'.repeat(2_000_000))).body.error.message).toMatch(/line 1 is longer/);
    expect((await post(m.replace(metricId, crypto.randomUUID()), [{ timestamp: end, value: 1 }])).status).toBe(404);
    expect((await post(m, [{ timestamp: end + 86_400_000, value: 1 }])).body.error.message).toMatch(/future/);
    expect((await post(m, [{ timestamp: 0, value: 1 }])).body.error.message).toMatch(/older than/);
    expect((await post(m, [{ timestamp: end, value: 'hot' }])).status).toBe(400);
    expect(
      (await post(`/projects/${projectId}/points`, [{ metricId: crypto.randomUUID(), timestamp: end, value: 1 }]))
        .status,
    ).toBe(404);
    expect(await scored(metricId)).toBe(0);
  });

  it('scores every point once through the stream and finds what the engine finds', async () => {
    const csv = ['timestamp,value', ...points.slice(0, 300).map((p) => `${new Date(p.time).toISOString()},${p.value}`)];
    const first = await api(`/projects/${projectId}/metrics/${metricId}/points`, {
      method: 'POST',
      body: csv.join('\n'),
      headers: { 'content-type': 'text/csv' },
    });
    expect(first).toMatchObject({ status: 202, body: { accepted: 300 } });
    expect(
      (
        await post(
          `/projects/${projectId}/metrics/${metricId}/points`,
          points.slice(300, 600).map((p) => ({ timestamp: new Date(p.time).toISOString(), value: p.value })),
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await post(
          `/projects/${projectId}/points`,
          points.slice(600).map((p) => ({ metricId, timestamp: p.time, value: p.value })),
        )
      ).status,
    ).toBe(202);
    await until('every point scored', async () => (await scored(metricId)) === points.length, 30_000);
    const expected = engineAnomalies(points);
    expect(expected.length).toBeGreaterThan(0);
    const listed = (await api(`/projects/${projectId}/anomalies?metricId=${metricId}&limit=100`)).body.items;
    expect(listed.map((a: any) => [a.start, a.type]).sort()).toEqual(expected.map((a) => [a.start, a.type]).sort());
    expect(listed[0]).toMatchObject({ siteId, assetId, status: 'open' });

    const range = await api(
      `/projects/${projectId}/metrics/${metricId}/points?from=${points[0].time}&to=${end}&maxPoints=100`,
    );
    expect(range.body.downsampled).toBe(true);
    expect(range.body.points.length).toBeLessThanOrEqual(100);
    expect(range.body.points.reduce((n: number, p: any) => n + p.count, 0)).toBe(points.length);
    const raw = await api(
      `/projects/${projectId}/metrics/${metricId}/points?from=${points[0].time}&to=${points[9].time}`,
    );
    expect(raw.body.points.map((p: any) => p.value)).toEqual(points.slice(0, 10).map((p) => p.value));
  }, 60_000);

  it('filters and acknowledges anomalies', async () => {
    const open = (await api(`/projects/${projectId}/anomalies?status=open&siteId=${siteId}`)).body.items;
    expect(open.length).toBeGreaterThan(0);
    const ack = await post(`/projects/${projectId}/anomalies/${open[0].id}/acknowledge`, { note: 'checked' });
    expect(ack.body).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: expect.stringMatching(/^key:/),
      note: 'checked',
    });
    expect((await post(`/projects/${projectId}/anomalies/${open[0].id}/acknowledge`, {})).status).toBe(409);
    const acknowledged = (await api(`/projects/${projectId}/anomalies?status=acknowledged`)).body.items;
    expect(acknowledged.map((a: any) => a.id)).toEqual([open[0].id]);
    expect((await api(`/projects/${projectId}/anomalies?severity=urgent`)).status).toBe(400);
    expect((await api(`/projects/${projectId}/anomalies?assetId=${crypto.randomUUID()}`)).body.items).toEqual([]);
  });

  it('forecasts a metric and says when an asset will need maintenance', async () => {
    const f = await api(`/projects/${projectId}/metrics/${metricId}/forecast?horizon=2h`);
    expect(f.status).toBe(200);
    expect(f.body.points).toHaveLength(120);
    expect(f.body.points[0].lower95).toBeLessThanOrEqual(f.body.points[0].value);
    expect(f.body.limitCrossings[0]).toMatchObject({ limit: 60, direction: 'rising' });
    expect((await api(`/projects/${projectId}/metrics/${metricId}/forecast?horizon=soon`)).status).toBe(400);
    const m = await api(`/projects/${projectId}/assets/${assetId}/maintenance?horizon=1d`);
    expect(m.body.items[0]).toMatchObject({ metricId, limit: 60, confidence: expect.any(String) });
  });

  it("answers the older dashboard's routes in its envelopes", async () => {
    const sites = await api('/sites');
    expect(sites.body).toMatchObject({
      success: true,
      data: [{ id: siteId, name: 'Hamburg', timezone: 'Europe/Berlin' }],
    });
    const made = await post('/sites', { name: 'Bremen', timezone: 'UTC', projectId });
    expect(made).toMatchObject({ status: 201, body: { success: true, data: { name: 'Bremen' } } });
    const put = await api(`/sites/${made.body.data.id}`, {
      method: 'PUT',
      body: JSON.stringify({ name: 'Bremen Nord' }),
    });
    expect(put.body).toMatchObject({ success: true, data: { name: 'Bremen Nord' } });
    expect((await api(`/sites/${made.body.data.id}`, { method: 'DELETE' })).body.success).toBe(true);
    const gone = await api(`/sites/${made.body.data.id}`);
    expect(gone).toMatchObject({ status: 404, body: { success: false, error: { code: 'NOT_FOUND' } } });
    expect((await api(`/sites/${siteId}/metrics`)).body.data.map((m: any) => m.id)).toContain(metricId);
    const anomalies = (await api(`/anomalies?siteId=${siteId}`)).body;
    expect(anomalies.success).toBe(true);
    expect(Object.keys(anomalies.data[0])).toEqual(
      expect.arrayContaining([
        'id',
        'type',
        'severity',
        'timestamp',
        'value',
        'expectedValue',
        'deviation',
        'confidence',
      ]),
    );
    const forecast = (await api(`/forecast?siteId=${siteId}&horizon=1h&metric=${metricId}`)).body;
    expect(forecast.data).toHaveLength(60);
    expect(Object.keys(forecast.data[0]).sort()).toEqual([
      'confidence',
      'lower95',
      'predictedPower',
      'timestamp',
      'upper95',
    ]);
    expect((await api(`/forecast?siteId=${siteId}`)).body).toMatchObject({
      success: false,
      error: { code: 'NOT_FOUND' },
    });
    const maintenance = (await api(`/maintenance?siteId=${siteId}&assetId=${assetId}&horizon=30d`)).body;
    expect(maintenance.success).toBe(true);
    for (const item of maintenance.data)
      expect(Object.keys(item).sort()).toEqual([
        'assetId',
        'assetName',
        'confidence',
        'daysUntilMaintenance',
        'predictedFailureDate',
        'priority',
        'recommendation',
        'type',
      ]);
    // A key for another project sees no site of this one.
    const other = (await post('/projects', { name: 'other', kind: 'sensors' })).body.id;
    const key = (await post('/api-keys', { name: 'other only', projectIds: [other] })).body.key;
    expect((await api(`/sites/${siteId}`, { key })).status).toBe(404);
    expect((await api('/sites', { key })).body.data).toEqual([]);
  }, 60_000);

  it('scores the other metrics of a batch when one fails, and says where to read again (Lambda batch item failure)', async () => {
    const metric = async (name: string) =>
      (await post(`/projects/${projectId}/metrics`, { assetId, name, expectedIntervalSeconds: 60 })).body.id as string;
    const [good, bad] = [await metric('flow'), await metric('pressure')];
    const record = (sequence: string, metricId: string, from: number) => ({
      sequenceNumber: sequence,
      data: Buffer.from(
        JSON.stringify({
          v: 1,
          projectId,
          metricId,
          t: points.slice(from, from + 50).map((p) => p.time),
          x: points.slice(from, from + 50).map((p) => p.value),
        }),
      ),
    });
    const batch = [
      record('900100', good, 0),
      record('900101', bad, 0),
      record('900102', good, 50),
      record('900103', bad, 50),
    ];
    const failing: Services = {
      ...runtime.services,
      series: new Proxy(runtime.services.series, {
        get: (target, name) =>
          name === 'getState'
            ? async (id: string) => {
                if (id === bad) throw new Error('table unavailable');
                return target.getState(id);
              }
            : Reflect.get(target, name),
      }),
    };
    const first = await consumeStreamRecords(failing, batch);
    expect(first).toMatchObject({ scored: 100, failedFrom: '900101' });
    expect(await scored(good)).toBe(100);
    expect(await scored(bad)).toBe(0);
    // read again from the reported record: the good metric's records change nothing, the failed one's are scored
    const again = await consumeStreamRecords(runtime.services, batch.slice(1));
    expect(again.failedFrom).toBeUndefined();
    expect([again.scored, await scored(good), await scored(bad)]).toEqual([100, 100, 100]);
  }, 30_000);

  it('scores every point exactly once when the consumer dies mid-stream and starts again', async () => {
    const crashMetric = (
      await post(`/projects/${projectId}/metrics`, { assetId, name: 'vibration', expectedIntervalSeconds: 60 })
    ).body.id;
    // The runtime's consumer stands aside; a consumer whose state commit dies on the third metric batch takes over.
    await runtime.points.poller.stop();
    let commits = 0;
    const dying: Services = {
      ...runtime.services,
      series: {
        ...runtime.services.series,
        getState: (id) => runtime.services.series.getState(id),
        putChunk: (...a) => runtime.services.series.putChunk(...a),
        pointsBetween: (...a) => runtime.services.series.pointsBetween(...a),
        deleteSeries: (id) => runtime.services.series.deleteSeries(id),
        getCheckpoint: (...a) => runtime.services.series.getCheckpoint(...a),
        putCheckpoint: (...a) => runtime.services.series.putCheckpoint(...a),
        putState: async (id, state) => {
          if (++commits === 3) throw new Error('killed mid-batch');
          return runtime.services.series.putState(id, state);
        },
      },
    };
    const crashing = new StreamPoller(dying, runtime.points.client, runtime.points.streamName, {
      batchSize: 1,
      idleMs: 20,
    });
    await crashing.start();
    for (let i = 0; i < points.length; i += 150)
      await post(
        `/projects/${projectId}/points`,
        points.slice(i, i + 150).map((p) => ({ metricId: crashMetric, timestamp: p.time, value: p.value })),
      );
    await until('the consumer to die', () => crashing.stats.errors > 0, 20_000);
    await crashing.stop();
    const restarted = new StreamPoller(runtime.services, runtime.points.client, runtime.points.streamName);
    await restarted.start();
    try {
      await until(
        'every point scored after the restart',
        async () => (await scored(crashMetric)) === points.length,
        30_000,
      );
      await new Promise((r) => setTimeout(r, 500)); // anything doubled would show now
      const state = await runtime.services.series.getState(crashMetric);
      expect(state).toMatchObject({ scored: points.length, dropped: 0 });
      const listed = (await api(`/projects/${projectId}/anomalies?metricId=${crashMetric}&limit=100`)).body.items;
      expect(listed.map((a: any) => [a.start, a.type]).sort()).toEqual(
        engineAnomalies(points)
          .map((a) => [a.start, a.type])
          .sort(),
      );
    } finally {
      await restarted.stop();
    }
  }, 90_000);
});
