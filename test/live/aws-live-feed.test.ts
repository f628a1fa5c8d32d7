import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEvent, EventBridgeEvent, KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { handler as authorize, useKeyStore } from '../../functions/auth/authorizer.ts';
import { handler as liveEvents } from '../../functions/live/events-lambda.ts';
import { handler as socket, type LiveSocketEvent } from '../../functions/live/lambda.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { handler as consumer } from '../../functions/stream/lambda.ts';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ApiGatewayLivePoster } from '../../functions/service/adapters/api-gateway-live-poster.ts';
import { fanOut, POSTS_AT_ONCE } from '../../functions/service/live/live-fan-out.ts';
import { LOSSY_BUFFER_BYTES, MAX_BUFFER_BYTES, MAX_FAILED_POSTS } from '../../functions/service/live/live-limits.ts';
import { deliveryOfEvent, pointsDelivery } from '../../functions/service/live/live-routing.ts';
import { useServices } from '../../functions/service/adapters/aws-services.ts';
import { busDetail, EVENT_SOURCE } from '../../functions/service/adapters/event-publishers.ts';
import { toAuthorizerContext } from '../../functions/service/auth/principal.ts';
import type { DetectionRecord } from '../../functions/service/domain/detection-record.ts';
import { silentLog } from '../../functions/service/log.ts';
import type { FaultlineEvent } from '../../functions/service/ports/event-publisher.ts';
import type { Services } from '../../functions/service/services.ts';
import { resultId } from '../../functions/service/store/table-definition.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';

/**
 * The Management API's PostToConnection on loopback: POST /{stage}/@connections/{id}, recorded; a connection marked
 * gone answers 410 GoneException as API Gateway does for a client that left.
 */
async function managementApi() {
  const posts: { connectionId: string; message: any }[] = [];
  const gone = new Set<string>();
  /** Connections whose posts fail (API Gateway's 500), and every post tried to them. */
  const failing = new Set<string>();
  const failed: string[] = [];
  /** DeleteConnection calls. */
  const closed: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const match = req.url?.match(/^\/live\/@connections\/([^/?]+)$/);
      if ((req.method !== 'POST' && req.method !== 'DELETE') || !match) {
        res.writeHead(404).end();
        return;
      }
      const connectionId = decodeURIComponent(match[1]);
      if (req.method === 'DELETE') {
        closed.push(connectionId);
        res.writeHead(204).end();
        return;
      }
      if (failing.has(connectionId)) {
        failed.push(connectionId);
        res.writeHead(500, { 'content-type': 'application/json', 'x-amzn-errortype': 'InternalServerErrorException' });
        res.end(JSON.stringify({ message: 'internal error' }));
        return;
      }
      if (gone.has(connectionId)) {
        res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' });
        res.end(JSON.stringify({ message: 'connection gone' }));
        return;
      }
      posts.push({ connectionId, message: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/live`;
  return { url, posts, gone, failing, failed, closed, close: () => new Promise((r) => server.close(r)) };
}

/** The events API Gateway's WebSocket API hands the authorizer and the route integration. */
const requestContext = (connectionId: string, eventType: 'CONNECT' | 'DISCONNECT' | 'MESSAGE', routeKey: string) => ({
  routeKey,
  eventType,
  messageId: eventType === 'MESSAGE' ? `m-${Math.random().toString(36).slice(2)}` : undefined,
  extendedRequestId: 'Xyz=',
  requestTime: '02/Dec/2026:01:00:00 +0000',
  messageDirection: 'IN' as const,
  stage: 'live',
  connectedAt: Date.now(),
  requestTimeEpoch: Date.now(),
  identity: { sourceIp: '127.0.0.1' },
  requestId: 'Xyz=',
  domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
  connectionId,
  apiId: 'abc123',
});
const authorizerEvent = (headers: Record<string, string>, query: Record<string, string> = {}) =>
  ({
    type: 'REQUEST',
    methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/live/$connect',
    resource: '$connect',
    path: '',
    httpMethod: 'GET',
    headers: { Host: 'abc123.execute-api.eu-west-1.amazonaws.com', 'Sec-WebSocket-Version': '13', ...headers },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: {},
    pathParameters: {},
    stageVariables: {},
    requestContext: requestContext('C0', 'CONNECT', '$connect'),
  }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('the live feed in AWS: the WebSocket API handlers on the table, posting through the Management API', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let api: Awaited<ReturnType<typeof managementApi>>;
  let s: Services;
  let projectId: string;
  let imageProjectId: string;
  let siteId: string;
  let metricId: string;
  const published: FaultlineEvent[] = [];
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const points = series(600, end, [250, 450]);

  const post = async (path: string, body: unknown) =>
    (await (
      await fetch(`${runtime.url}/api/v1${path}`, {
        method: 'POST',
        headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).json()) as any;
  const connect = async (connectionId: string, context: Record<string, unknown>) =>
    socket({
      requestContext: { ...requestContext(connectionId, 'CONNECT', '$connect'), authorizer: context },
      headers: { Host: 'abc123.execute-api.eu-west-1.amazonaws.com' },
      isBase64Encoded: false,
    } as unknown as LiveSocketEvent);
  const message = (connectionId: string, body: unknown) =>
    socket({
      requestContext: requestContext(connectionId, 'MESSAGE', '$default'),
      body: typeof body === 'string' ? body : JSON.stringify(body),
      isBase64Encoded: false,
    } as unknown as LiveSocketEvent);
  const postsTo = (connectionId: string) =>
    api.posts.filter((p) => p.connectionId === connectionId).map((p) => p.message);
  /** Hands the published events to the fan-out as the bus's rule would, and forgets them. */
  const deliverBusEvents = async () => {
    for (const e of published.splice(0))
      await liveEvents({
        version: '0',
        id: 'b1',
        'detail-type': e.type,
        source: EVENT_SOURCE,
        account: '123456789012',
        time: new Date().toISOString(),
        region: 'eu-west-1',
        resources: [],
        detail: JSON.parse(JSON.stringify(busDetail(e))),
      } as EventBridgeEvent<string, Record<string, unknown>>);
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-aws-live-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '1' }), silentLog);
    await runtime.points.poller.stop(); // the Lambda consumer below reads the records
    api = await managementApi();
    // The Management API client signs its posts: any credentials do for the loopback server.
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    s = {
      ...runtime.services,
      config: { ...runtime.services.config, FAULTLINE_LIVE_ENDPOINT: api.url },
      events: { publish: async (e) => void published.push(e) },
    };
    useServices(s);
    useKeyStore(runtime.services);
    projectId = (await post('/projects', { name: 'plant', kind: 'sensors' })).id;
    siteId = (await post(`/projects/${projectId}/sites`, { name: 'Lübeck' })).id;
    const assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Mill' })).id;
    metricId = (await post(`/projects/${projectId}/metrics`, { assetId, name: 'load' })).id;
    imageProjectId = (await post('/projects', { name: 'cookies' })).id;
  }, 60_000);

  afterAll(async () => {
    useServices(runtime?.services);
    useKeyStore(undefined);
    vi.unstubAllEnvs();
    await api?.close();
    await runtime?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('signs in at $connect with the key in a header or the URL, as the HTTP API does; refuses a wrong one', async () => {
    const byQuery = await authorize(authorizerEvent({}, { key: runtime.apiKey! }));
    expect(byQuery.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'execute-api:Invoke' });
    expect(byQuery.context).toMatchObject({ kind: 'api-key', admin: 'true' });
    const byHeader = await authorize(authorizerEvent({ 'X-Api-Key': runtime.apiKey! }));
    expect(byHeader.context).toEqual(byQuery.context);
    await expect(authorize(authorizerEvent({}, { key: 'flk_wrong' }))).rejects.toThrow('Unauthorized');
    await expect(authorize(authorizerEvent({}))).rejects.toThrow('Unauthorized');
    // what the authorizer found is what $connect records; a connect without it is refused
    expect(await connect('C-none', {})).toEqual({ statusCode: 401 });
    expect(await connect('C1', { ...byQuery.context, principalId: 'x', integrationLatency: 12 })).toEqual({
      statusCode: 200,
    });
    expect((await s.liveConnections.getConnection('C1'))?.principal).toMatchObject({ kind: 'api-key', admin: true });
  });

  it('subscribes, replays, and posts scored points and new anomalies to subscribers only', async () => {
    const admin = toAuthorizerContext({ kind: 'api-key', subject: 'key:admin', admin: true, projectIds: null });
    await connect('C2', admin);
    await connect('C3', admin);
    await message('C2', { type: 'subscribe', projectId, metricId, since: 0 });
    expect(postsTo('C2').map((m) => m.type)).toEqual(['subscribed', 'replay']);
    expect(postsTo('C2')[1]).toMatchObject({ anomalies: [], detections: [], complete: true, last: true });
    // C3 follows another site of the project only: nothing of this metric reaches it
    const otherSite = (await post(`/projects/${projectId}/sites`, { name: 'Rostock' })).id;
    await message('C3', { type: 'subscribe', projectId, siteId: otherSite });

    // the consumer Lambda, with a Kinesis event
    const records: KinesisStreamEvent['Records'] = [];
    for (let i = 0; i < points.length; i += 100) {
      const part = points.slice(i, i + 100);
      const data = { v: 1, projectId, metricId, t: part.map((p) => p.time), x: part.map((p) => p.value) };
      records.push({
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: metricId,
          sequenceNumber: String(49_000_000 + i),
          data: Buffer.from(JSON.stringify(data)).toString('base64'),
          approximateArrivalTimestamp: Date.now() / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-000000000000:${49_000_000 + i}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/consumer',
        awsRegion: 'eu-west-1',
        eventSourceARN: 'arn:aws:kinesis:eu-west-1:123456789012:stream/points',
      });
    }
    expect(await consumer({ Records: records })).toEqual({ batchItemFailures: [] });
    const pointMessages = postsTo('C2').filter((m) => m.type === 'points');
    expect(pointMessages).toHaveLength(1); // one message per metric and batch
    expect(pointMessages[0].time).toEqual(points.map((p) => p.time));
    await deliverBusEvents();
    const expected = engineAnomalies(points);
    const pushed = postsTo('C2').filter((m) => m.type === 'anomaly');
    expect(pushed.map((m) => [m.anomaly.start, m.anomaly.type]).sort()).toEqual(
      expected.map((a) => [a.start, a.type]).sort(),
    );
    expect(postsTo('C3').filter((m) => m.type !== 'subscribed')).toEqual([]);

    // a client that was away replays since a time
    await message('C3', { type: 'subscribe', projectId, siteId, since: new Date(points[0].time).toISOString() });
    const replay = postsTo('C3').find((m) => m.type === 'replay');
    expect(replay.anomalies.map((a: any) => a.id).sort()).toEqual(pushed.map((m) => m.anomaly.id).sort());
    // unsubscribed: no more
    await message('C2', { type: 'unsubscribe', projectId, metricId });
    expect(postsTo('C2').at(-1)).toMatchObject({ type: 'unsubscribed' });
    // C3's two subscriptions (two sites) are left
    expect((await s.liveConnections.subscribersOf(projectId)).map((x) => x.connectionId)).toEqual(['C3', 'C3']);
  }, 60_000);

  it('answers bad messages and others’ projects with an error and keeps the connection', async () => {
    const scoped = toAuthorizerContext({
      kind: 'api-key',
      subject: 'key:scoped',
      admin: false,
      projectIds: [imageProjectId],
    });
    await connect('C4', scoped);
    await message('C4', 'not json');
    await message('C4', { type: 'subscribe' });
    await message('C4', { type: 'subscribe', projectId }); // not this key's project
    await message('C4', 'x'.repeat(20_000));
    expect(postsTo('C4').map((m) => m.code)).toEqual([
      'INVALID_JSON',
      'VALIDATION_ERROR',
      'NOT_FOUND',
      'MESSAGE_TOO_LARGE',
    ]);
    await message('C4', { type: 'subscribe', projectId: imageProjectId });
    expect(postsTo('C4').at(-1)).toMatchObject({ type: 'subscribed' });
    // a message from a connection that was never recorded (or is gone)
    await message('C-unknown', { type: 'subscribe', projectId });
    expect(postsTo('C-unknown')).toEqual([{ type: 'error', code: 'UNAUTHORIZED', message: expect.any(String) }]);
  });

  it('posts image detections as they complete and replays them since a time, bounded, newest first', async () => {
    const record = (i: number): DetectionRecord => {
      const createdAt = new Date(Date.now() - (10 - i) * 1000).toISOString();
      return {
        id: resultId(createdAt, `d${i}`),
        projectId: imageProjectId,
        batchId: 'api',
        source: { kind: 'api', name: `cookie-${i}.png`, key: null },
        createdAt,
        result: {
          anomaly_score: 0.1 * i,
          classification: i > 5 ? 'Faulty' : 'Good',
          is_anomalous: i > 5,
          bounding_boxes: [],
          model_version: 'v1',
        } as unknown as DetectionRecord['result'],
        visualizationKeys: null,
        resultKey: null,
      };
    };
    for (let i = 0; i < 3; i++) await s.results.put(record(i));
    await connect('C5', toAuthorizerContext({ kind: 'user', subject: 'user:x', admin: true, projectIds: null }));
    await message('C5', { type: 'subscribe', projectId: imageProjectId, since: Date.now() - 60_000 });
    const replay = postsTo('C5').find((m) => m.type === 'replay');
    expect(replay).toMatchObject({ anomalies: [], complete: true, last: true });
    expect(replay.detections.map((d: any) => d.source.name)).toEqual(['cookie-2.png', 'cookie-1.png', 'cookie-0.png']);
    // a detection completes: its event, through the bus, reaches the image project's subscribers
    published.push({
      type: 'Detection Completed',
      projectId: imageProjectId,
      detail: { resultId: 'r_1', anomaly_score: 0.9, is_anomalous: true },
    });
    await deliverBusEvents();
    expect(postsTo('C5').at(-1)).toEqual({
      type: 'detection',
      projectId: imageProjectId,
      detection: { resultId: 'r_1', anomaly_score: 0.9, is_anomalous: true },
    });
    expect(postsTo('C4').at(-1)).toMatchObject({ type: 'detection' }); // the scoped key's subscription too

    // a longer replay comes in parts that each fit API Gateway's 128 KB message
    for (let i = 3; i < 130; i++) await s.results.put(record(i));
    const from = api.posts.length;
    await message('C5', { type: 'subscribe', projectId: imageProjectId, since: Date.now() - 600_000 });
    const parts = api.posts.slice(from).filter((p) => p.connectionId === 'C5' && p.message.type === 'replay');
    expect(parts.map((p) => [p.message.part, p.message.last, p.message.detections.length])).toEqual([
      [1, false, 100],
      [2, true, 30],
    ]);
    expect(parts.every((p) => JSON.stringify(p.message).length < 128 * 1024)).toBe(true);
  }, 60_000);

  it('forgets a connection the Management API says is gone, and all of one at $disconnect', async () => {
    api.gone.add('C4');
    published.push({ type: 'Detection Completed', projectId: imageProjectId, detail: { resultId: 'r_2' } });
    await deliverBusEvents();
    expect(await s.liveConnections.getConnection('C4')).toBeUndefined();
    expect((await s.liveConnections.subscribersOf(imageProjectId)).map((x) => x.connectionId)).toEqual(['C5']);
    await socket({
      requestContext: requestContext('C5', 'DISCONNECT', '$disconnect'),
      isBase64Encoded: false,
    } as unknown as LiveSocketEvent);
    expect(await s.liveConnections.getConnection('C5')).toBeUndefined();
    expect(await s.liveConnections.subscribersOf(imageProjectId)).toEqual([]);
  });

  it('holds at most the limit of subscriptions per connection, with parallel messages too (conditional writes)', async () => {
    await connect('C6', toAuthorizerContext({ kind: 'local', subject: 'local', admin: true, projectIds: null }));
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => s.liveConnections.subscribe('C6', `p${i}/*/*`, { projectId: `p${i}` }, 5)),
    );
    expect(outcomes.filter((o) => o === 'added')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'full')).toHaveLength(7);
    expect(await s.liveConnections.subscribe('C6', 'p0/*/*', { projectId: 'p0' }, 5)).toBe(
      outcomes[0] === 'added' ? 'added' : 'full',
    );
    expect(await s.liveConnections.subscribe('C-nobody', 'p0/*/*', { projectId: 'p0' }, 5)).toBe('gone');
  });

  it('holds each connection to the local feed’s limits: points past the lossy bound dropped, a slow or failing client cut off', async () => {
    const admin = toAuthorizerContext({ kind: 'api-key', subject: 'key:admin', admin: true, projectIds: null });
    // A site and metric of their own: the other tests' subscribers receive nothing of these.
    const siteId = (await post(`/projects/${projectId}/sites`, { name: 'Kiel' })).id;
    const assetId = (await post(`/projects/${projectId}/assets`, { siteId, name: 'Press' })).id;
    const metricId = (await post(`/projects/${projectId}/metrics`, { assetId, name: 'force' })).id;
    for (const id of ['L1', 'L2', 'L3']) {
      await connect(id, admin);
      await message(id, { type: 'subscribe', projectId, metricId });
    }
    api.failing.add('L2');
    // One client of the Management API without retries, so that each failed post is one request.
    const poster = new ApiGatewayLivePoster(
      new ApiGatewayManagementApiClient({ endpoint: api.url, region: 'eu-west-1', maxAttempts: 1 }),
    );
    const t0 = Date.now();
    const batch = Array.from({ length: 60 }, (_, b) =>
      pointsDelivery({
        projectId,
        siteId,
        metricId,
        time: Array.from({ length: 1000 }, (_, i) => t0 + (b * 1000 + i) * 1000),
        value: Array.from({ length: 1000 }, (_, i) => i / 7),
      }),
    );
    const bytes = JSON.stringify(batch[0].message).length;
    const fits = Math.floor(LOSSY_BUFFER_BYTES / bytes);
    expect(fits).toBeLessThan(batch.length);
    const anomaly = deliveryOfEvent({
      type: 'Metric Anomaly',
      projectId,
      detail: { projectId, siteId, metricId, id: 'a_limits', start: t0, type: 'spike' },
    })!;
    const outcome = await fanOut(s, poster, [...batch, anomaly]);
    const toL1 = postsTo('L1').filter((m) => m.type !== 'subscribed');
    // Points up to the bound (the first ones of the batch); the anomaly after them still goes (never dropped).
    const firstTimes = (m: { time: number[] }[]) => m.map((x) => x.time[0]).sort((a, b) => a - b);
    expect(firstTimes(toL1.filter((m) => m.type === 'points'))).toEqual(
      firstTimes(batch.slice(0, fits).map((d) => d.message as { time: number[] })),
    );
    expect(toL1.filter((m) => m.type === 'anomaly')).toHaveLength(1);
    // The failing client: closed and forgotten after MAX_FAILED_POSTS failures (and the posts then in flight).
    const tried = api.failed.filter((c) => c === 'L2').length;
    expect(tried).toBeGreaterThanOrEqual(MAX_FAILED_POSTS);
    expect(tried).toBeLessThan(MAX_FAILED_POSTS + POSTS_AT_ONCE);
    expect(api.closed).toContain('L2');
    expect(await s.liveConnections.getConnection('L2')).toBeUndefined();
    expect(outcome).toMatchObject({ cutOff: 1, failed: tried, dropped: 2 * (batch.length - fits) });

    // Messages that are never dropped, over MAX_BUFFER_BYTES to one client at once: cut off there.
    const pad = 'x'.repeat(256 * 1024);
    const big = Array.from({ length: Math.ceil(MAX_BUFFER_BYTES / pad.length) + 2 }, (_, i) =>
      deliveryOfEvent({
        type: 'Metric Anomaly',
        projectId,
        detail: { projectId, siteId, metricId, id: `a_${i}`, start: t0, type: 'spike', pad },
      })!,
    );
    await message('L1', { type: 'unsubscribe', projectId, metricId });
    const before = postsTo('L3').length;
    const heavy = await fanOut(s, poster, big);
    expect(postsTo('L3').length - before).toBeLessThan(big.length);
    expect(postsTo('L3').length - before).toBeGreaterThan(big.length - 8);
    expect(heavy.cutOff).toBe(1);
    expect(api.closed).toContain('L3');
    expect(await s.liveConnections.getConnection('L3')).toBeUndefined();
  }, 60_000);
});
