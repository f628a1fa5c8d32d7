import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { createLogger, powertoolsLog } from '../../functions/service/adapters/powertools.ts';
import { uploadImages } from '../../functions/service/datasets/datasets-service.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

/**
 * What the process writes (Powertools' Logger and Metrics: stdout, warnings and errors on stderr), as JSON lines, in
 * order, while capturing.
 */
function captureStdout() {
  const lines: any[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      for (const text of String(chunk).split('\n'))
        if (text.startsWith('{'))
          try {
            lines.push(JSON.parse(text));
          } catch {
            // not one of ours
          }
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    return write;
  });
  return { lines, restore: () => streams.forEach((s, i) => void (s.write = writes[i]!)) };
}

describe('log level and debug sampling by setting (POWERTOOLS_LOG_LEVEL, POWERTOOLS_LOGGER_SAMPLE_RATE)', () => {
  const names = ['POWERTOOLS_LOG_LEVEL', 'POWERTOOLS_LOGGER_SAMPLE_RATE'];
  const saved = names.map((n) => process.env[n]);
  afterEach(() => {
    names.forEach((n, i) => (saved[i] === undefined ? delete process.env[n] : (process.env[n] = saved[i])));
  });
  const logged = (env: Record<string, string>) => {
    Object.assign(process.env, env);
    const out = captureStdout();
    try {
      const log = powertoolsLog(createLogger());
      log({ level: 'debug', msg: 'a debug line' });
      log({ msg: 'an info line', jobId: 'j1' });
      log({ level: 'warn', msg: 'a warning' });
    } finally {
      out.restore();
    }
    return out.lines.filter((l) => l.service === 'faultline');
  };

  it('logs structured JSON at INFO by default, and only warnings and worse at WARN', () => {
    const info = logged({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_LOGGER_SAMPLE_RATE: '0' });
    expect(info.map((l) => l.message)).toEqual(['an info line', 'a warning']);
    expect(info[0]).toMatchObject({ level: 'INFO', jobId: 'j1', service: 'faultline' });
    expect(typeof info[0].timestamp).toBe('string');
    expect(logged({ POWERTOOLS_LOG_LEVEL: 'WARN' }).map((l) => l.message)).toEqual(['a warning']);
  });

  it('logs debug lines when sampled', () => {
    const sampled = logged({ POWERTOOLS_LOG_LEVEL: 'INFO', POWERTOOLS_LOGGER_SAMPLE_RATE: '1' });
    expect(sampled.map((l) => l.message)).toContain('a debug line');
  });
});

/**
 * The local runtime as in AWS: Powertools' log lines and EMF metrics on stdout, the request's ids carried from the API
 * through the queue to the worker and into the events and webhooks, and the same metrics on GET /metrics.
 */
describe.skipIf(!existsSync(cookie))('telemetry through the local runtime', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let hook: { server: Server; url: string; bodies: any[] };
  let out: ReturnType<typeof captureStdout>;
  let projectId: string;
  let trainRequest: { requestId: string; correlationId: string; jobId: string };

  const api = async (path: string, init?: RequestInit & { key?: string | null }) => {
    const key = init?.key === undefined ? runtime.apiKey! : init.key;
    const response = await fetch(`${runtime.url}${path}`, {
      ...init,
      headers: {
        ...(key ? { 'x-api-key': key } : {}),
        ...(typeof init?.body === 'string' ? { 'content-type': 'application/json' } : {}),
        ...(init?.headers as Record<string, string>),
      },
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text };
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-telemetry-'));
    const bodies: any[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    hook = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies };
    out = captureStdout();
    runtime = await startLocalRuntime(
      testSettings(dataDir, { FAULTLINE_WORKERS: '1', FAULTLINE_ACCESS_LOG: 'false' }),
      powertoolsLog(createLogger({ level: 'INFO' })),
    );
    const created = await api('/api/v1/projects', {
      method: 'POST',
      body: JSON.stringify({
        name: 'telemetry',
        webhookUrl: hook.url,
        webhookEvents: ['Job Succeeded', 'Detection Completed'],
      }),
    });
    projectId = JSON.parse(created.text).id;
    const train = join(cookie, 'train', 'good');
    await uploadImages(
      runtime.services,
      projectId,
      await Promise.all(
        readdirSync(train)
          .slice(0, 3)
          .map(async (f) => ({ name: f, bytes: await readFile(join(train, f)) })),
      ),
    );
    const job = await api(`/api/v1/projects/${projectId}/train`, {
      method: 'POST',
      headers: { 'x-correlation-id': 'order-4711' },
    });
    expect(job.status).toBe(202);
    trainRequest = {
      requestId: job.headers.get('x-request-id')!,
      correlationId: 'order-4711',
      jobId: JSON.parse(job.text).id,
    };
    await waitFor(
      'training',
      async () =>
        JSON.parse((await api(`/api/v1/jobs/${trainRequest.jobId}`)).text).status === 'SUCCEEDED' || undefined,
      150_000,
    );
  }, 180_000);
  afterAll(async () => {
    out?.restore();
    await runtime?.stop();
    hook?.server.closeAllConnections();
    hook?.server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("carries a request's ids into the API's log line, the worker's log lines and the emitted events and webhooks", async () => {
    const { requestId, correlationId, jobId } = trainRequest;
    expect(requestId).toMatch(/\S/);
    const ours = out.lines.filter((l) => l.requestId === requestId && l.correlationId === correlationId);
    // The API handler's line for the request
    expect(ours).toContainEqual(
      expect.objectContaining({ message: 'request', route: 'POST /api/v1/projects/{projectId}/train', status: 202 }),
    );
    // The worker's, for the job the request queued
    expect(ours).toContainEqual(expect.objectContaining({ message: 'job started', jobId, workerId: 'local-worker-1' }));
    expect(ours).toContainEqual(expect.objectContaining({ message: 'job succeeded', jobId }));
    // The event (EventBridge's detail in AWS; a log line locally) and the webhook's body carry both ids
    const event = ours.find((l) => l.message === 'event' && l.type === 'Job Succeeded');
    expect(event?.detail).toMatchObject({ jobId, requestId, correlationId });
    await waitFor('the webhook', async () => hook.bodies.find((b) => b['detail-type'] === 'Job Succeeded'), 20_000);
    expect(hook.bodies.find((b) => b['detail-type'] === 'Job Succeeded').detail).toMatchObject({
      jobId,
      requestId,
      correlationId,
    });
  });

  it("ignores a caller's correlation id that is not a plain token, and correlates by the request id", async () => {
    const got = await api(`/api/v1/projects/${projectId}`, { headers: { 'x-correlation-id': 'a b <script>' } });
    expect(got.status).toBe(200);
    const requestId = got.headers.get('x-request-id')!;
    const line = out.lines.find((l) => l.message === 'request' && l.requestId === requestId);
    expect(line).toMatchObject({ correlationId: requestId, route: 'GET /api/v1/projects/{projectId}', status: 200 });
  });

  it('answers GET /metrics in Prometheus text format after a detection, for administrators only', async () => {
    const form = new FormData();
    form.append(
      'file',
      new Blob([await readFile(join(cookie, 'test', 'cracked', 'anomaly-1.jpg'))], { type: 'image/jpeg' }),
      'anomaly-1.jpg',
    );
    const detected = await api(`/api/v1/projects/${projectId}/detect`, { method: 'POST', body: form });
    expect(detected.status).toBe(200);
    const anomalous = JSON.parse(detected.text).is_anomalous as boolean;

    const metrics = await api('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = metrics.text;
    const value = (series: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(text).toContain('# TYPE faultline_detections_total counter');
    expect(value(`faultline_detections_total{project_id="${projectId}"}`)).toBe(1);
    expect(value(`faultline_anomalous_count{project_id="${projectId}"}`)).toBe(1);
    expect(value(`faultline_anomalous_sum{project_id="${projectId}"}`)).toBe(anomalous ? 1 : 0);
    expect(value(`faultline_anomalies_total{project_id="${projectId}"}`)).toBe(anomalous ? 1 : undefined);
    for (const stage of ['decode', 'preprocess', 'backbone', 'search', 'postprocess', 'encode'])
      expect(value(`faultline_stage_latency_milliseconds_count{stage="${stage}"}`)).toBe(1);
    expect(
      value('faultline_request_latency_milliseconds_count{route="POST /api/v1/projects/{projectId}/detect"}'),
    ).toBe(1);
    expect(value('faultline_queue_wait_milliseconds_count{job_type="train"}')).toBe(1);
    expect(value('faultline_training_time_seconds_count')).toBe(1);

    // The same figures as CloudWatch EMF lines on stdout
    const emf = out.lines.filter((l) => l._aws && l.Detections === 1 && l.ProjectId === projectId);
    expect(emf).toHaveLength(1);
    expect(emf[0]._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'Faultline',
      Dimensions: [expect.arrayContaining(['ProjectId'])],
      Metrics: [{ Name: 'Detections', Unit: 'Count' }],
    });

    // Protected as the other operational route: no key, 401; a key scoped to a project, 403.
    expect((await api('/metrics', { key: null })).status).toBe(401);
    const scoped = await api('/api/v1/api-keys', {
      method: 'POST',
      body: JSON.stringify({ name: 'scoped', projectIds: [projectId] }),
    });
    expect(scoped.status).toBe(201);
    expect((await api('/metrics', { key: JSON.parse(scoped.text).key })).status).toBe(403);
  });
});
