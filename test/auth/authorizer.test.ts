import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler, jwtVerifier, useKeyStore } from '../../functions/auth/authorizer.ts';
import { loadLocalSettings } from '../../functions/local/local-settings.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../../functions/service/auth/api-keys-service.ts';
import { silentLog } from '../../functions/service/log.ts';

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
      loadLocalSettings({ FAULTLINE_DATA_DIR: dataDir, FAULTLINE_PORT: '0', FAULTLINE_S3_PORT: '0', FAULTLINE_DYNAMODB_PORT: '0', FAULTLINE_SQS_PORT: '0', FAULTLINE_WORKERS: '0', FAULTLINE_ACCESS_LOG: 'false' }),
      silentLog,
    );
    useKeyStore(runtime.services);
    process.env.FAULTLINE_JWT_ISSUER = ISSUER;
    process.env.FAULTLINE_JWT_AUDIENCE = 'client-1';
    jwtVerifier().cacheJwks({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' } as never] }, ISSUER as never);
  });
  afterAll(async () => {
    useKeyStore(undefined);
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lets a machine in with a live API key, and not after it is revoked', async () => {
    const key = await createApiKey(runtime.services, 'line-7 camera');
    expect(key.key).toMatch(/^flk_[\w-]{43}$/);
    expect(await handler(event({ 'x-api-key': key.key }))).toEqual({ isAuthorized: true, context: { principal: key.id, kind: 'api-key' } });
    expect((await listApiKeys(runtime.services)).map((k) => k.id)).toContain(key.id);
    expect(JSON.stringify(await listApiKeys(runtime.services))).not.toContain(key.key.slice(4)); // no secret, no hash of it shown
    await revokeApiKey(runtime.services, key.id);
    expect((await handler(event({ 'x-api-key': key.key }))).isAuthorized).toBe(false);
    await expect(revokeApiKey(runtime.services, key.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a made-up or altered key', async () => {
    const key = await createApiKey(runtime.services, 'other');
    const altered = `${key.key.slice(0, -1)}${key.key.endsWith('A') ? 'B' : 'A'}`;
    expect((await handler(event({ 'x-api-key': altered }))).isAuthorized).toBe(false);
    expect((await handler(event({ 'x-api-key': 'not-a-key' }))).isAuthorized).toBe(false);
  });

  it('lets a person in with a valid JWT from the issuer only', async () => {
    expect(await handler(event({ authorization: `Bearer ${jwt({})}` }))).toEqual({ isAuthorized: true, context: { principal: 'user-1', kind: 'user' } });
    expect((await handler(event({ authorization: `Bearer ${jwt({ aud: 'another-client' })}` }))).isAuthorized).toBe(false);
    expect((await handler(event({ authorization: `Bearer ${jwt({ iss: 'https://evil.example.com' })}` }))).isAuthorized).toBe(false);
    expect((await handler(event({ authorization: `Bearer ${jwt({ exp: Math.floor(Date.now() / 1000) - 60 })}` }))).isAuthorized).toBe(false);
    const forged = jwt({}).split('.');
    forged[1] = b64({ iss: ISSUER, aud: 'client-1', sub: 'admin', exp: Math.floor(Date.now() / 1000) + 600 });
    expect((await handler(event({ authorization: `Bearer ${forged.join('.')}` }))).isAuthorized).toBe(false);
  });

  it('refuses a request with no credential', async () => {
    expect((await handler(event({}))).isAuthorized).toBe(false);
    expect((await handler(event({ authorization: 'Basic dXNlcjpwYXNz' }))).isAuthorized).toBe(false);
  });
});
