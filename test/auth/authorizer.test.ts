import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, jwtVerifier, useKeyStore } from '../../functions/auth/authorizer.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../../functions/service/auth/api-keys-service.ts';
import { LOCAL_ADMIN, type Principal } from '../../functions/service/auth/principal.ts';
import { silentLog } from '../../functions/service/log.ts';
import { createProject } from '../../functions/service/projects/projects-service.ts';
import { testSettings } from '../helpers/local-runtime.ts';

const ISSUER = 'https://issuer.example.com/pool-1';
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** An RS256 JWT signed with the test key. */
function jwt(claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'test-key' })}.${b64({ iss: ISSUER, aud: 'client-1', sub: 'user-1', iat: now, exp: now + 600, ...claims })}`;
  return `${body}.${sign('sha256', Buffer.from(body), privateKey).toString('base64url')}`;
}

const event = (headers: Record<string, string>) => ({ headers }) as unknown as APIGatewayRequestAuthorizerEventV2;

/** The API Gateway authorizer: a JWT from the issuer or an API key from the table, nothing else. */
describe('the JWT-or-API-key authorizer', () => {
  let runtime: LocalRuntime;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-auth-'));
    runtime = await startLocalRuntime(
      testSettings(dataDir, { FAULTLINE_WORKERS: '0', FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
    useKeyStore(runtime.services);
    process.env.FAULTLINE_JWT_ISSUER = ISSUER;
    process.env.FAULTLINE_JWT_AUDIENCE = 'client-1';
    jwtVerifier().cacheJwks(
      { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' } as never] },
      ISSUER as never,
    );
  });
  afterAll(async () => {
    useKeyStore(undefined);
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets a machine in with a live API key, and not after it is revoked', async () => {
    const key = await createApiKey(runtime.services, LOCAL_ADMIN, { name: 'line-7 camera', admin: true });
    expect(key.key).toMatch(/^flk_[\w-]{43}$/);
    expect(await handler(event({ 'x-api-key': key.key }))).toEqual({
      isAuthorized: true,
      context: { subject: `key:${key.id}`, kind: 'api-key', admin: 'true', projectIds: '' },
    });
    expect((await listApiKeys(runtime.services, LOCAL_ADMIN)).map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(await listApiKeys(runtime.services, LOCAL_ADMIN))).not.toContain(key.key.slice(4)); // no secret, no hash of it shown
    await revokeApiKey(runtime.services, LOCAL_ADMIN, key.id);
    expect((await handler(event({ 'x-api-key': key.key }))).isAuthorized).toBe(false);
    await expect(revokeApiKey(runtime.services, LOCAL_ADMIN, key.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a made-up or altered key', async () => {
    const key = await createApiKey(runtime.services, LOCAL_ADMIN, { name: 'other', admin: true });
    const altered = `${key.key.slice(0, -1)}${key.key.endsWith('A') ? 'B' : 'A'}`;
    expect((await handler(event({ 'x-api-key': altered }))).isAuthorized).toBe(false);
    expect((await handler(event({ 'x-api-key': 'not-a-key' }))).isAuthorized).toBe(false);
  });

  it('lets a person in with a valid JWT from the issuer only', async () => {
    expect(await handler(event({ authorization: `Bearer ${jwt({})}` }))).toEqual({
      isAuthorized: true,
      context: { subject: 'user:user-1', kind: 'user', admin: 'false', projectIds: '' },
    });
    expect(
      (await handler(event({ authorization: `Bearer ${jwt({ 'cognito:groups': ['faultline-admins'] })}` }))).context
        .admin,
    ).toBe('true');
    expect((await handler(event({ authorization: `Bearer ${jwt({ aud: 'another-client' })}` }))).isAuthorized).toBe(
      false,
    );
    expect(
      (await handler(event({ authorization: `Bearer ${jwt({ iss: 'https://evil.example.com' })}` }))).isAuthorized,
    ).toBe(false);
    expect(
      (await handler(event({ authorization: `Bearer ${jwt({ exp: Math.floor(Date.now() / 1000) - 60 })}` })))
        .isAuthorized,
    ).toBe(false);
    const forged = jwt({}).split('.');
    forged[1] = b64({ iss: ISSUER, aud: 'client-1', sub: 'admin', exp: Math.floor(Date.now() / 1000) + 600 });
    expect((await handler(event({ authorization: `Bearer ${forged.join('.')}` }))).isAuthorized).toBe(false);
  });

  it('refuses a request with no credential', async () => {
    expect((await handler(event({}))).isAuthorized).toBe(false);
    expect((await handler(event({ authorization: 'Basic dXNlcjpwYXNz' }))).isAuthorized).toBe(false);
  });

  it('gives a person keys only for their own projects, and a scoped key nothing beyond its projects', async () => {
    const s = runtime.services;
    const alice: Principal = { kind: 'user', subject: 'user:alice', admin: false, projectIds: null };
    const bob: Principal = { kind: 'user', subject: 'user:bob', admin: false, projectIds: null };
    const settings = {
      description: '',
      severityBands: [{ name: 'Normal', below: 0.5 }, { name: 'Faulty' }],
      threshold: 0.5,
    };
    const mine = await createProject(s, { name: 'alice line', ...settings }, alice);
    const theirs = await createProject(s, { name: 'bob line', ...settings }, bob);
    expect(mine.owner).toBe('user:alice');

    const key = await createApiKey(s, alice, { name: 'alice camera', projectIds: [mine.id] });
    expect(key).toMatchObject({ admin: false, projectIds: [mine.id], createdBy: 'user:alice' });
    expect((await handler(event({ 'x-api-key': key.key }))).context).toEqual({
      subject: `key:${key.id}`,
      kind: 'api-key',
      admin: 'false',
      projectIds: mine.id,
    });
    // another's project reads as missing; an administrator key is not hers to make; a key must say its projects
    await expect(createApiKey(s, alice, { name: 'x', projectIds: [theirs.id] })).rejects.toMatchObject({
      code: 'PROJECT_NOT_FOUND',
    });
    await expect(createApiKey(s, alice, { name: 'x', admin: true })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(createApiKey(s, alice, { name: 'x' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    // people see and revoke only their own keys
    expect((await listApiKeys(s, alice)).map((k) => k.id)).toEqual([key.id]);
    expect(await listApiKeys(s, bob)).toEqual([]);
    await expect(revokeApiKey(s, bob, key.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // the scoped key itself manages nothing
    const scoped: Principal = { kind: 'api-key', subject: `key:${key.id}`, admin: false, projectIds: [mine.id] };
    await expect(createApiKey(s, scoped, { name: 'y', projectIds: [mine.id] })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(listApiKeys(s, scoped)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(createProject(s, { name: 'sneaky', ...settings }, scoped)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await revokeApiKey(s, alice, key.id);
  });
});
