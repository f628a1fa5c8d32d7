import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authenticate, type SignIn } from '../../auth/authorizer.ts';
import { type CompatGroup, type OpenAccess, openPrincipal, sendsCredential } from '../../auth/open-access.ts';
import { toAuthorizerContext } from '../../service/auth/principal.ts';
import type { RouteAuthorizer } from './http-server.ts';
import { RateLimiter } from './rate-limiter.ts';

const refusal = (
  requestId: string,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 => ({
  statusCode: status,
  headers: { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId, ...headers },
  body: JSON.stringify({ error: { code, message, requestId } }),
});

const unauthorized = (requestId: string): APIGatewayProxyStructuredResultV2 =>
  refusal(
    requestId,
    401,
    'UNAUTHORIZED',
    'send a valid API key in the x-api-key header (npm start prints it; it is also in the data folder, file api-key)',
    { 'www-authenticate': 'ApiKey header="x-api-key"' },
  );

/** Open compatibility groups, for the routes of one group: who may call without a key, and how often. */
export interface OpenRoutes {
  access: OpenAccess;
  /** Shared by every open route: the limit is per source address across them. */
  limiter: RateLimiter;
}

export const openRoutes = (access: OpenAccess | undefined): OpenRoutes | undefined =>
  access && { access, limiter: new RateLimiter(access.rate) };

/**
 * What API Gateway's Lambda authorizer does in AWS, locally, through the same sign-in (auth/authorizer.ts): a request
 * runs only with a live credential (an API key; a JWT only where `signIn` has an issuer, which the local runtime has
 * not), and its handler sees who sent it in the same authorizer context. The HTTP server asks before it reads the
 * body, so a caller without a key cannot make it buffer anything. A refusal says what to send (401), where API Gateway
 * answers a bare 403. On a route of an open compatibility group (auth/open-access.ts), a request with no credential
 * at all from a listed network is let in as that group's caller, under the open routes' own rate limit; a credential
 * that is sent is always checked.
 */
export function signInAuthorizer(signIn: SignIn, open?: OpenRoutes, group?: CompatGroup): RouteAuthorizer {
  return async (headers, requestId, sourceIp) => {
    const anonymous = sendsCredential(headers) ? undefined : openPrincipal(open?.access, group, sourceIp);
    if (anonymous) {
      const wait = open!.limiter.take(sourceIp);
      if (wait > 0)
        return {
          refusal: refusal(
            requestId,
            429,
            'TOO_MANY_REQUESTS',
            `too many requests without a key from this address: at most ${open!.access.rate.rate} a second; retry in ${wait} s`,
            { 'retry-after': String(wait) },
          ),
        };
      return { authorizer: { lambda: toAuthorizerContext(anonymous) } };
    }
    const principal = await authenticate(headers, signIn);
    return principal
      ? { authorizer: { lambda: toAuthorizerContext(principal) } }
      : { refusal: unauthorized(requestId) };
  };
}
