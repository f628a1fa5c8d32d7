import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { testSettings } from '../helpers/local-runtime.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeHandler } from '../../functions/api/http/route-handler.ts';
import { routes } from '../../functions/api/routes/index.ts';
import { projectRoot } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { type Principal, toAuthorizerContext } from '../../functions/service/auth/principal.ts';
import { createJob } from '../../functions/service/jobs/jobs-service.ts';

/**
 * Who sees what: a key scoped to one project sees nothing of another (as if it did not exist), cannot make projects
 * or keys; people (JWT) see only their own projects; no secret reaches the logs.
 */
describe('access: project isolation, credentials, logs', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  const logs: string[] = [];
  let mine: { id: string; webhookSecret: string };
  let other: { id: string };
  let scopedKey: string;
  let otherJobId: string;

  const call = async (key: string | undefined, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = key ? { 'x-api-key': key } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${runtime.url}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as any };
  };
  const admin = (method: string, path: string, body?: unknown) => call(runtime.apiKey, method, path, body);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-access-'));
    runtime = await startLocalRuntime(testSettings(dataDir, { FAULTLINE_WORKERS: '0' }), (line) =>
      logs.push(JSON.stringify(line)),
    );
    mine = (await admin('POST', '/projects', { name: 'line 1', webhookUrl: 'http://127.0.0.1:9/hook' })).body;
    other = (await admin('POST', '/projects', { name: 'line 2' })).body;
    otherJobId = (await createJob(runtime.services, { projectId: other.id, type: 'train', input: {}, enqueue: false }))
      .job.id;
    const created = await admin('POST', '/api-keys', { name: 'camera 1', projectIds: [mine.id] });
    expect(created.status).toBe(201);
    scopedKey = created.body.key;
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows a scoped key its project only, and answers 404 for every route of another project', async () => {
    const list = await call(scopedKey, 'GET', '/projects');
    expect(list.status).toBe(200);
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([mine.id]);
    expect((await call(scopedKey, 'GET', `/projects/${mine.id}`)).status).toBe(200);
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('not looked at')], { type: 'image/jpeg' }), 'a.jpg');
    const attempts = [
      ['GET', `/projects/${other.id}`],
      ['PATCH', `/projects/${other.id}`, { name: 'taken' }],
      ['DELETE', `/projects/${other.id}?confirm=line%202`],
      ['GET', `/projects/${other.id}/images`],
      ['POST', `/projects/${other.id}/uploads`, { files: [{ name: 'a.jpg', contentType: 'image/jpeg', size: 10 }] }],
      ['POST', `/projects/${other.id}/train`],
      ['GET', `/projects/${other.id}/jobs`],
      ['GET', `/jobs/${otherJobId}`],
      ['GET', `/projects/${other.id}/models`],
      ['GET', `/projects/${other.id}/model-info`],
      ['GET', `/projects/${other.id}/results`],
      ['GET', `/projects/${other.id}/batches/line-1`],
      ['GET', `/projects/${other.id}/webhook-deliveries`],
    ] as const;
    for (const [method, path, body] of attempts) {
      const answer = await call(scopedKey, method, path, body);
      expect({ method, path, status: answer.status }).toEqual({ method, path, status: 404 });
      expect(answer.body.error.code).toMatch(/_NOT_FOUND$/);
    }
    const detect = await fetch(`${runtime.url}/api/v1/projects/${other.id}/detect`, {
      method: 'POST',
      headers: { 'x-api-key': scopedKey },
      body: form,
    });
    expect(detect.status).toBe(404);
    // the administrator still sees both, and the other project was left as it was
    expect((await admin('GET', `/projects/${other.id}`)).body.name).toBe('line 2');
    expect((await admin('GET', '/projects')).body.items).toHaveLength(2);
  });

  it('presigns uploads for one key, one content type and the declared size, for 15 minutes; downloads too', async () => {
    const { uploads } = (
      await call(scopedKey, 'POST', `/projects/${mine.id}/uploads`, {
        files: [{ name: 'a.png', contentType: 'image/png', size: 1234 }],
      })
    ).body;
    const policy = JSON.parse(Buffer.from(uploads[0].fields.Policy, 'base64').toString('utf8'));
    const minutes = (Date.parse(policy.expiration) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(14);
    expect(minutes).toBeLessThanOrEqual(15);
    expect(policy.conditions).toEqual(
      expect.arrayContaining([
        { key: uploads[0].key },
        ['content-length-range', 1, 1234],
        ['eq', '$Content-Type', 'image/png'],
        { bucket: 'faultline' },
      ]),
    );
    expect(uploads[0].key.startsWith(`datasets/${mine.id}/`)).toBe(true);
    const url = new URL((await runtime.services.objects.presignGet(uploads[0].key, 900)) as string);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900');
  });

  it('lets a scoped key make neither projects nor keys, and refuses missing, wrong and revoked keys', async () => {
    expect((await call(scopedKey, 'POST', '/projects', { name: 'mine now' })).status).toBe(403);
    expect((await call(scopedKey, 'POST', '/api-keys', { name: 'more', projectIds: [mine.id] })).status).toBe(403);
    expect((await call(scopedKey, 'GET', '/api-keys')).status).toBe(403);
    expect((await call(undefined, 'GET', '/projects')).status).toBe(401);
    expect((await call(`${scopedKey.slice(0, -3)}abc`, 'GET', '/projects')).status).toBe(401);
    const temporary = (await admin('POST', '/api-keys', { name: 'temporary', projectIds: [mine.id] })).body;
    expect((await call(temporary.key, 'GET', '/projects')).status).toBe(200);
    expect((await admin('DELETE', `/api-keys/${temporary.id}`)).status).toBe(204);
    expect((await call(temporary.key, 'GET', '/projects')).status).toBe(401);
  });

  it('lets only an administrator redrive the dead-letter queue, from the API or the CLI', async () => {
    expect((await call(scopedKey, 'POST', '/dead-letters/redrive')).status).toBe(403);
    expect(await admin('POST', '/dead-letters/redrive')).toEqual({ status: 200, body: { messages: 0, jobs: [] } });
    const cli = spawn(process.execPath, [join(projectRoot(), 'bin', 'faultline.js'), 'redrive', '--url', runtime.url], {
      env: { ...process.env, FAULTLINE_DATA_DIR: dataDir },
    });
    let out = '';
    cli.stdout.on('data', (d) => (out += d));
    expect(await new Promise((r) => cli.on('exit', r))).toBe(0);
    expect(JSON.parse(out)).toEqual({ messages: 0, jobs: [] });
  });

  it('shows people (JWT, through the authorizer context) only the projects they made', async () => {
    const as =
      (p: Principal) => async (operationId: string, pathParameters?: Record<string, string>, body?: unknown) => {
        const route = routes.find((r) => r.operationId === operationId)!;
        const event = {
          version: '2.0',
          routeKey: `${route.method} ${route.path}`,
          rawPath: route.path,
          rawQueryString: '',
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          pathParameters,
          queryStringParameters: {},
          requestContext: {
            requestId: 'access-test',
            http: { method: route.method, path: route.path },
            authorizer: { lambda: toAuthorizerContext(p) },
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          isBase64Encoded: false,
        } as unknown as APIGatewayProxyEventV2;
        const result = await routeHandler(route, () => runtime.services)(event, {} as never);
        return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') };
      };
    const alice = as({ kind: 'user', subject: 'user:alice', admin: false, projectIds: null });
    const bob = as({ kind: 'user', subject: 'user:bob', admin: false, projectIds: null });
    const hers = (await alice('createProject', undefined, { name: 'alice line' })).body;
    expect(hers.owner).toBe('user:alice');
    expect((await bob('getProject', { projectId: hers.id })).status).toBe(404);
    expect((await bob('listProjects')).body.items).toEqual([]);
    expect((await alice('listProjects')).body.items.map((p: { id: string }) => p.id)).toEqual([hers.id]);
    // projects made by the administrator (or before owners were recorded) are not hers
    expect((await alice('getProject', { projectId: mine.id })).status).toBe(404);
    // an administrator in the admin group sees all
    const admins = as({ kind: 'user', subject: 'user:carol', admin: true, projectIds: null });
    expect((await admins('listProjects')).body.items.length).toBeGreaterThanOrEqual(3);
    // and a request that no authorizer vouched for is refused, not taken for anyone
    const route = routes.find((r) => r.operationId === 'listProjects')!;
    const { FAULTLINE_AUTH } = runtime.services.config;
    (runtime.services.config as { FAULTLINE_AUTH: string }).FAULTLINE_AUTH = 'authorizer';
    try {
      const bare = await routeHandler(route, () => runtime.services)(
        { headers: {}, requestContext: { requestId: 'x' } } as never,
        {} as never,
      );
      expect(bare.statusCode).toBe(401);
    } finally {
      (runtime.services.config as { FAULTLINE_AUTH: string }).FAULTLINE_AUTH = FAULTLINE_AUTH;
    }
  });

  it('writes no credential or secret into its logs', async () => {
    expect(logs.length).toBeGreaterThan(10);
    const text = logs.join('\n');
    for (const secret of [runtime.apiKey!, scopedKey, mine.webhookSecret]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(4, 24));
    }
    expect(text).not.toMatch(/x-api-key|authorization/i);
  });
});
