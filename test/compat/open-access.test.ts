import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { handler, resetAuthorizerSettings, useKeyStore } from '../../functions/auth/authorizer.ts';
import { inNetworks, openAccessFrom } from '../../functions/auth/open-access.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { testSettings } from '../helpers/local-runtime.ts';

const PROJECT = randomUUID();
const runtimes: { runtime: LocalRuntime; dir: string }[] = [];

async function start(extra: Record<string, string>): Promise<LocalRuntime> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-open-'));
  const runtime = await startLocalRuntime(
    testSettings(dir, {
      FAULTLINE_WORKERS: '0',
      FAULTLINE_ACCESS_LOG: 'false',
      FAULTLINE_DEFAULT_PROJECT: PROJECT,
      ...extra,
    }),
    silentLog,
  );
  runtimes.push({ runtime, dir });
  return runtime;
}

afterAll(async () => {
  for (const { runtime, dir } of runtimes) {
    await runtime.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

/** A FlareNet client: plain HTTP, no key. */
const modelInfo = (url: string) => fetch(`${url}/api/v1/model-info`);

describe('compatibility routes without a key', () => {
  it('are closed by default: 401 as every other route', async () => {
    const { url } = await start({});
    expect((await modelInfo(url)).status).toBe(401);
  });

  it('open only the named groups, only for the listed networks, only on the default project', async () => {
    const open = await start({ FAULTLINE_OPEN_ROUTES: 'flarenet', FAULTLINE_OPEN_NETWORKS: '127.0.0.0/8' });
    // let in: the default project does not exist yet, so the route itself answers (404), not the sign-in (401)
    const res = await modelInfo(open.url);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PROJECT_NOT_FOUND');
    // routes outside the open groups still need a key
    expect((await fetch(`${open.url}/api/v1/projects`)).status).toBe(401);
    expect((await fetch(`${open.url}/api/v1/projects/${randomUUID()}/model-info`)).status).toBe(401);
    // a credential that is sent is checked, never skipped
    expect((await fetch(`${open.url}/api/v1/model-info`, { headers: { 'x-api-key': 'flk_wrong' } })).status).toBe(401);

    const elsewhere = await start({
      FAULTLINE_OPEN_ROUTES: 'flarenet',
      FAULTLINE_OPEN_NETWORKS: '10.0.0.0/8,fd00::/8',
    });
    expect((await modelInfo(elsewhere.url)).status).toBe(401);
    const otherGroup = await start({ FAULTLINE_OPEN_ROUTES: 'flask', FAULTLINE_OPEN_NETWORKS: '127.0.0.1' });
    expect((await modelInfo(otherGroup.url)).status).toBe(401);
  });

  it('have a rate limit of their own', async () => {
    const { url } = await start({
      FAULTLINE_OPEN_ROUTES: 'flarenet',
      FAULTLINE_OPEN_NETWORKS: '127.0.0.1/32',
      FAULTLINE_OPEN_RATE_LIMIT: '0.5',
      FAULTLINE_OPEN_RATE_BURST: '2',
    });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await modelInfo(url)).status);
    expect(statuses).toEqual([404, 404, 429]);
  });

  it('refuse settings that would open more than meant', () => {
    expect(() => openAccessFrom({ FAULTLINE_OPEN_ROUTES: 'flarenet' }, PROJECT)).toThrow(/FAULTLINE_OPEN_NETWORKS/);
    expect(() =>
      openAccessFrom({ FAULTLINE_OPEN_ROUTES: 'flarenet', FAULTLINE_OPEN_NETWORKS: '10.0.0.0/8' }, undefined),
    ).toThrow(/FAULTLINE_DEFAULT_PROJECT/);
    expect(() =>
      openAccessFrom({ FAULTLINE_OPEN_ROUTES: 'everything', FAULTLINE_OPEN_NETWORKS: '10.0.0.0/8' }, PROJECT),
    ).toThrow(/FAULTLINE_OPEN_ROUTES/);
    expect(() =>
      openAccessFrom({ FAULTLINE_OPEN_ROUTES: 'flask', FAULTLINE_OPEN_NETWORKS: '10.0.0.0/33' }, PROJECT),
    ).toThrow(/CIDR/);
    expect(openAccessFrom({}, PROJECT)).toBeUndefined();
  });

  it('match addresses by network, IPv4 mapped into IPv6 included', () => {
    expect(inNetworks('10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(inNetworks('::ffff:10.1.2.3', ['10.0.0.0/8'])).toBe(true);
    expect(inNetworks('11.1.2.3', ['10.0.0.0/8'])).toBe(false);
    expect(inNetworks('fd00::5', ['fd00::/8'])).toBe(true);
    expect(inNetworks('not-an-address', ['0.0.0.0/0'])).toBe(false);
  });

  it('in AWS: the Lambda authorizer admits them by route key and source address', async () => {
    useKeyStore({ apiKeys: { get: async () => undefined } as never });
    const env = {
      FAULTLINE_JWT_ISSUER: 'https://issuer.example.com/pool',
      FAULTLINE_JWT_AUDIENCE: 'client',
      FAULTLINE_OPEN_ROUTES: 'flarenet',
      FAULTLINE_OPEN_NETWORKS: '192.0.2.0/24',
      FAULTLINE_DEFAULT_PROJECT: PROJECT,
      FAULTLINE_OPEN_ROUTE_GROUPS: JSON.stringify({ 'GET /api/v1/model-info': 'flarenet' }),
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    resetAuthorizerSettings();
    const event = (routeKey: string, sourceIp: string) =>
      ({
        routeKey,
        headers: {},
        requestContext: { http: { sourceIp } },
      }) as unknown as APIGatewayRequestAuthorizerEventV2;
    try {
      expect(await handler(event('GET /api/v1/model-info', '192.0.2.7'))).toEqual({
        isAuthorized: true,
        context: { subject: 'open:flarenet', kind: 'api-key', admin: 'false', projectIds: PROJECT },
      });
      expect((await handler(event('GET /api/v1/model-info', '198.51.100.1'))).isAuthorized).toBe(false);
      expect((await handler(event('GET /api/v1/projects', '192.0.2.7'))).isAuthorized).toBe(false);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
      Object.assign(process.env, saved);
      resetAuthorizerSettings();
      useKeyStore(undefined);
    }
  });
});
