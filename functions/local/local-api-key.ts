import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { keyPrincipal, mintApiKey, verifyApiKey } from '../service/auth/api-keys-service.ts';
import { toAuthorizerContext } from '../service/auth/principal.ts';
import type { Services } from '../service/services.ts';
import type { RouteAuthorizer } from './gateway/http-server.ts';

/**
 * The local runtime's key: made at first start, kept in DATA_DIR/api-key (readable by this user only) so that it can
 * be printed at every start. It is an ordinary API key: revoking it through the API makes the next start mint another.
 */
export async function localApiKey(s: Services, dataDir: string): Promise<string> {
  const file = join(dataDir, 'api-key');
  if (existsSync(file)) {
    const secret = (await readFile(file, 'utf8')).trim();
    if ((await verifyApiKey(s, secret))?.admin) return secret;
  }
  const { key } = await mintApiKey(s, { name: 'local runtime', createdBy: 'local', admin: true, projectIds: null });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}

const unauthorized = (requestId: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 401,
  headers: { 'content-type': 'application/json; charset=utf-8', 'www-authenticate': 'ApiKey header="x-api-key"', 'x-request-id': requestId },
  body: JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'send a valid API key in the x-api-key header (npm start prints it; it is also in the data folder, file api-key)', requestId } }),
});

/**
 * What API Gateway's authorizer does in AWS, locally: a request runs only with a live API key, and its handler sees
 * who sent it in the same authorizer context. The HTTP server asks before it reads the body, so a caller without a
 * key cannot make it buffer anything. Keys are looked up by their SHA-256, so no secret is compared byte by byte
 * (the timing of the lookup tells nothing about the secret).
 */
export function apiKeyAuthorizer(s: Services): RouteAuthorizer {
  return async (headers, requestId) => {
    const secret = headers['x-api-key'];
    const key = secret ? await verifyApiKey(s, secret) : undefined;
    return key ? { authorizer: { lambda: toAuthorizerContext(keyPrincipal(key)) } } : { refusal: unauthorized(requestId) };
  };
}
