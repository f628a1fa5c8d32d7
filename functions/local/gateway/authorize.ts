import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { authenticate, type SignIn } from '../../auth/authorizer.ts';
import { toAuthorizerContext } from '../../service/auth/principal.ts';
import type { RouteAuthorizer } from './http-server.ts';

const unauthorized = (requestId: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode: 401,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'www-authenticate': 'ApiKey header="x-api-key"',
    'x-request-id': requestId,
  },
  body: JSON.stringify({
    error: {
      code: 'UNAUTHORIZED',
      message:
        'send a valid API key in the x-api-key header (npm start prints it; it is also in the data folder, file api-key)',
      requestId,
    },
  }),
});

/**
 * What API Gateway's Lambda authorizer does in AWS, locally, through the same sign-in (auth/authorizer.ts): a request
 * runs only with a live credential (an API key; a JWT only where `signIn` has an issuer, which the local runtime has
 * not), and its handler sees who sent it in the same authorizer context. The HTTP server asks before it reads the
 * body, so a caller without a key cannot make it buffer anything. A refusal says what to send (401), where API Gateway
 * answers a bare 403.
 */
export function signInAuthorizer(signIn: SignIn): RouteAuthorizer {
  return async (headers, requestId) => {
    const principal = await authenticate(headers, signIn);
    return principal
      ? { authorizer: { lambda: toAuthorizerContext(principal) } }
      : { refusal: unauthorized(requestId) };
  };
}
