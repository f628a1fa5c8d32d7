import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, type SignIn } from '../../../functions/auth/authorizer.ts';
import { signInAuthorizer } from '../../../functions/local/gateway/authorize.ts';
import { type LocalHttpServer, startHttpServer } from '../../../functions/local/gateway/http-server.ts';
import { mintApiKey } from '../../../functions/service/auth/api-keys-service.ts';
import { toAuthorizerContext } from '../../../functions/service/auth/principal.ts';
import type { ApiKeyRecord } from '../../../functions/service/store/api-key-repository.ts';

/** The key table in memory: all the sign-in reads of it. */
function keyTable() {
  const byHash = new Map<string, ApiKeyRecord>();
  return {
    apiKeys: {
      create: async (r: ApiKeyRecord) => void byHash.set(r.hash, r),
      findByHash: async (hash: string) => byHash.get(hash),
    },
    log: () => {},
  };
}

/** The local gateway signs callers in through the cloud's authorizer module, before it reads a body. */
describe('the local gateway sign-in', () => {
  const keys = keyTable();
  const signIn = { keys } as unknown as SignIn;
  let server: LocalHttpServer;
  let key: string;
  let calls = 0;

  beforeAll(async () => {
    key = (await mintApiKey(keys as never, { name: 'camera', createdBy: 'local', admin: false, projectIds: ['p1'] }))
      .key;
    server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      routes: [
        {
          method: 'POST',
          path: '/api/v1/echo',
          authorize: signInAuthorizer(signIn),
          handler: async (event: APIGatewayProxyEventV2) => {
            calls++;
            return {
              statusCode: 200,
              body: JSON.stringify({
                authorizer: (event.requestContext as { authorizer?: unknown }).authorizer,
                body: event.body,
              }),
            };
          },
        },
      ],
      maxBodyBytes: 1024,
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('hands the handler the same authorizer context as the Lambda authorizer gives API Gateway', async () => {
    const principal = await authenticate({ 'x-api-key': key }, signIn);
    expect(principal).toMatchObject({ kind: 'api-key', admin: false, projectIds: ['p1'] });
    const res = await fetch(`${server.url}/api/v1/echo`, {
      method: 'POST',
      headers: { 'x-api-key': key },
      body: 'hello',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ authorizer: { lambda: toAuthorizerContext(principal!) }, body: 'hello' });
  });

  it('refuses a missing or wrong key, and a JWT where no issuer is configured, with 401 and never runs the handler', async () => {
    const before = calls;
    for (const headers of [
      {},
      { 'x-api-key': `${key.slice(0, -2)}xx` },
      { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' },
    ] as Record<string, string>[]) {
      const res = await fetch(`${server.url}/api/v1/echo`, { method: 'POST', headers, body: 'hello' });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('ApiKey header="x-api-key"');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
    }
    expect(await authenticate({ authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' }, signIn)).toBeUndefined();
    expect(calls).toBe(before);
  });
});
