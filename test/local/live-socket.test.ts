import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** A WebSocket client that keeps every message it receives. */
async function client(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const messages: any[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const next = (match: (m: any) => boolean, what: string, from = 0): Promise<any> =>
    waitFor(what, async () => messages.slice(from).find(match), 15_000);
  return { ws, messages, next, send: (m: unknown) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)) };
}

/** The status an upgrade is refused with. */
const refusal = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('open', () => reject(new Error('connected')));
    ws.on('error', () => undefined);
  });

describe('the live feed over WebSockets on the API port', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let wsUrl: string;
  let projectId: string;
  let siteId: string;
  let metricId: string;
  const open: WebSocket[] = [];

  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${runtime.url}/api/v1${path}`, {
      method: 'POST',
      headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as any };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-live-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
    wsUrl = `${runtime.url.replace(/^http/, 'ws')}/ws`;
    projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).body.id;
    siteId = (await post(`/projects/${projectId}/sites`, { name: 'Kiel' })).body.id;
    const assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Fan' })).body.id;
    metricId = (await post(`/projects/${projectId}/metrics`, { assetId, name: 'current' })).body.id;
  }, 60_000);

  afterAll(async () => {
    for (const ws of open) ws.terminate();
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a connection without a valid key, and a path other than /ws', async () => {
    expect((await refusal(wsUrl)).status).toBe(401);
    const wrong = await refusal(wsUrl, { 'x-api-key': 'flk_not-a-key' });
    expect(wrong.status).toBe(401);
    expect(JSON.parse(wrong.body).error.code).toBe('UNAUTHORIZED');
    expect((await refusal(`${runtime.url.replace(/^http/, 'ws')}/other?key=${runtime.apiKey}`)).status).toBe(404);
  });

  it('pushes new points (throttled) and anomalies to a subscriber, as the engine finds them; replays since a time', async () => {
    // the key in the URL, as a browser sends it
    const c = await client(`${wsUrl}?key=${encodeURIComponent(runtime.apiKey!)}`);
    open.push(c.ws);
    c.send({ type: 'subscribe', projectId, siteId });
    await c.next((m) => m.type === 'subscribed', 'subscribed');
    const points = series(900, Math.floor(Date.now() / MINUTE) * MINUTE, [300, 650]);
    const expected = engineAnomalies(points);
    expect(expected.length).toBeGreaterThan(0);
    for (let i = 0; i < points.length; i += 50) {
      const part = points.slice(i, i + 50).map((p) => ({ timestamp: p.time, value: p.value }));
      expect((await post(`/projects/${projectId}/metrics/${metricId}/points`, part)).status).toBe(202);
    }
    const received = () =>
      c.messages.filter((m) => m.type === 'points').reduce((n, m) => n + m.time.length + m.skipped, 0);
    await waitFor('every point pushed', async () => (received() === points.length ? true : undefined), 20_000);
    const pointMessages = c.messages.filter((m) => m.type === 'points');
    // 18 records, pushed in fewer messages: one per second per metric
    expect(pointMessages.length).toBeLessThan(18);
    expect(pointMessages.flatMap((m) => m.time)).toEqual(points.map((p) => p.time));
    await waitFor(
      'every anomaly pushed',
      async () => (c.messages.filter((m) => m.type === 'anomaly').length >= expected.length ? true : undefined),
      10_000,
    );
    const pushed = c.messages.filter((m) => m.type === 'anomaly').map((m) => m.anomaly);
    expect(pushed.map((a) => [a.start, a.type]).sort()).toEqual(expected.map((a) => [a.start, a.type]).sort());
    expect(new Set(pushed.map((a) => a.metricId))).toEqual(new Set([metricId]));

    // a client that was away asks for what happened since a time before the points
    const later = await client(wsUrl, { 'x-api-key': runtime.apiKey! });
    open.push(later.ws);
    later.send({ type: 'subscribe', projectId, metricId, since: new Date(points[0].time).toISOString() });
    const replay = await later.next((m) => m.type === 'replay', 'the replay');
    expect(replay.complete).toBe(true);
    expect(replay.anomalies.map((a: any) => a.id).sort()).toEqual(pushed.map((a) => a.id).sort());
    // since after the last anomaly: nothing
    later.send({ type: 'subscribe', projectId, metricId, since: Date.now() + 1000 });
    const none = await later.next((m) => m.type === 'replay', 'an empty replay', later.messages.indexOf(replay) + 1);
    expect(none.anomalies).toEqual([]);
  }, 60_000);

  it('answers a message that is not JSON, not a known message, or for another project with an error, and goes on', async () => {
    const other = (await post('/projects', { name: 'other', kind: 'sensors' })).body.id;
    const key = (await post('/api-keys', { name: 'other only', projectIds: [other] })).body.key;
    const c = await client(wsUrl, { 'x-api-key': key });
    open.push(c.ws);
    c.send('not json {');
    expect((await c.next((m) => m.type === 'error', 'an error')).code).toBe('INVALID_JSON');
    c.send({ type: 'subscribe' });
    expect((await c.next((m) => m.type === 'error', 'a second error', 1)).code).toBe('VALIDATION_ERROR');
    // our site, for a key scoped to another project: as if it did not exist
    c.send({ type: 'subscribe', projectId, siteId });
    const forbidden = await c.next((m) => m.type === 'error', 'a third error', 2);
    expect(forbidden.code).toBe('NOT_FOUND');
    c.send({ type: 'subscribe', projectId: other });
    await c.next((m) => m.type === 'subscribed', 'its own project');
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    // its project's detections reach it; the other project's do not
    await runtime.services.events.publish({ type: 'Detection Completed', projectId, detail: { resultId: 'r1' } });
    await runtime.services.events.publish({
      type: 'Detection Completed',
      projectId: other,
      detail: { resultId: 'r2' },
    });
    const detection = await c.next((m) => m.type === 'detection', 'a detection');
    expect(detection).toMatchObject({ projectId: other, detection: { resultId: 'r2' } });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.messages.filter((m) => m.type === 'detection')).toHaveLength(1);
    // unsubscribed: nothing more
    c.send({ type: 'unsubscribe', projectId: other });
    await c.next((m) => m.type === 'unsubscribed', 'unsubscribed');
    await runtime.services.events.publish({
      type: 'Detection Completed',
      projectId: other,
      detail: { resultId: 'r3' },
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(c.messages.filter((m) => m.type === 'detection')).toHaveLength(1);
  }, 30_000);
});
