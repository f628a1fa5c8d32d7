import type {
  APIGatewayAuthorizerResult,
  APIGatewayRequestAuthorizerEvent,
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
  Context,
} from 'aws-lambda';
import { liveCredentials } from './live-sign-in.ts';
import { JwtVerifier } from 'aws-jwt-verify';
import { z } from 'zod';
import { issuerVerifier } from './issuer-verifier.ts';
import { documentClient } from '../service/adapters/dynamodb-client.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { powertools } from '../service/adapters/powertools.ts';
import { serviceConfigSchema } from '../service/config.ts';
import {
  type CompatGroup,
  COMPAT_GROUPS,
  type OpenAccess,
  openAccessFrom,
  openPrincipal,
  sendsCredential,
} from './open-access.ts';
import { keyPrincipal, verifyApiKey } from '../service/auth/api-keys-service.ts';
import { type AuthorizerContext, type Principal, toAuthorizerContext } from '../service/auth/principal.ts';
import type { Services } from '../service/services.ts';
import { ApiKeyRepository } from '../service/store/api-key-repository.ts';

/**
 * The API's one sign-in, in AWS and locally: a person with a JWT from the issuer (Authorization: Bearer) or a machine
 * with an API key (x-api-key). In AWS `handler` runs it as API Gateway's Lambda authorizer; the local runtime's
 * gateway calls `authenticate` before it reads a request's body (functions/local/gateway/authorize.ts).
 */

/** What the credentials are checked against. */
export interface SignIn {
  /** The key table. */
  keys: Pick<Services, 'apiKeys'>;
  /** People's tokens: the issuer's verifier and the group whose members are administrators; unset, a JWT is refused. */
  jwt?: () => { verifier: Pick<ReturnType<typeof JwtVerifier.create>, 'verify'>; adminGroup: string };
}

/**
 * Who is calling, or undefined. Keys are looked up by their SHA-256, so no secret is compared byte by byte (the
 * timing of the lookup tells nothing about the secret).
 */
export async function authenticate(
  headers: Record<string, string | undefined>,
  signIn: SignIn,
): Promise<Principal | undefined> {
  const apiKey = headers['x-api-key'];
  if (apiKey) {
    const key = await verifyApiKey(signIn.keys, apiKey);
    return key ? keyPrincipal(key) : undefined;
  }
  const bearer = headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!bearer || !signIn.jwt) return undefined;
  try {
    const { verifier, adminGroup } = signIn.jwt();
    const payload = await verifier.verify(bearer);
    const groups = payload['cognito:groups'];
    const admin = Array.isArray(groups) && groups.includes(adminGroup);
    return { kind: 'user', subject: `user:${String(payload.sub)}`, admin, projectIds: null };
  } catch {
    return undefined;
  }
}

// The Lambda authorizer's own settings, from its environment (lib/api.ts).
const settingsSchema = z.object({
  FAULTLINE_JWT_ISSUER: z.url(),
  FAULTLINE_JWT_AUDIENCE: z.string().min(1),
  FAULTLINE_ADMIN_GROUP: z.string().min(1).default('faultline-admins'),
  /** Route key -> compatibility group, for the groups the stack opened (lib/api.ts); JSON. */
  FAULTLINE_OPEN_ROUTE_GROUPS: z
    .string()
    .default('{}')
    .transform((t) => JSON.parse(t) as unknown)
    .pipe(z.record(z.string(), z.enum(COMPAT_GROUPS))),
  FAULTLINE_DEFAULT_PROJECT: z.string().optional(),
  /** Route keys anyone may call (GET /health, GET /openapi.json): the authorizer guards every route (lib/api.ts). */
  FAULTLINE_PUBLIC_ROUTES: z
    .string()
    .default('')
    .transform((t) => new Set(t.split(',').filter(Boolean))),
});
let parsedSettings: z.infer<typeof settingsSchema> | undefined;
/** Read once per container: the authorizer runs on every request. */
const settings = () => (parsedSettings ??= settingsSchema.parse(process.env));

let verifier: ReturnType<typeof JwtVerifier.create> | undefined;
let keys: Pick<Services, 'apiKeys'> | undefined;

// The key table's settings, with the service's own schema (one owner for their names and defaults).
const tableSettingsSchema = serviceConfigSchema.pick({
  AWS_REGION: true,
  FAULTLINE_TABLE: true,
  FAULTLINE_DYNAMODB_ENDPOINT: true,
});

/** Only the key table: the authorizer runs on every request and loads nothing of the engine. */
function keyStore(): Pick<Services, 'apiKeys'> {
  if (!keys) {
    const config = tableSettingsSchema.parse(process.env);
    keys = {
      apiKeys: new ApiKeyRepository(
        powertools().tracer.captureAWSv3Client(documentClient(config)),
        config.FAULTLINE_TABLE,
      ),
    };
  }
  return keys;
}

/** For tests: the key store the Lambda authorizer uses instead of one built from the environment. */
export function useKeyStore(store: Pick<Services, 'apiKeys'> | undefined): void {
  keys = store;
}

/** The verifier for the deployment's issuer; tests hand it a key set instead of fetching one. */
export function jwtVerifier(): ReturnType<typeof JwtVerifier.create> {
  if (!verifier) {
    const { FAULTLINE_JWT_ISSUER, FAULTLINE_JWT_AUDIENCE } = settings();
    verifier = issuerVerifier({ issuer: FAULTLINE_JWT_ISSUER, audience: FAULTLINE_JWT_AUDIENCE.split(',') });
  }
  return verifier;
}

/**
 * The HTTP API's Lambda authorizer (payload 2.0, simple responses) for every route but /health and /openapi.json:
 * either credential is enough. What is wrong with a refused one is not said (API Gateway answers 403). The context
 * tells the handlers who is calling, so that each sees only the caller's projects.
 */
let openAccess: { access: OpenAccess | undefined } | undefined;
/** The groups open without a key, from the same settings as npm start's (auth/open-access.ts). */
const open = () => (openAccess ??= { access: openAccessFrom(process.env, settings().FAULTLINE_DEFAULT_PROJECT) });

/** For tests: forget the settings read, so that a changed environment is read again. */
export function resetAuthorizerSettings(): void {
  parsedSettings = undefined;
  openAccess = undefined;
}

/** The sign-in of the deployment: the key table, and the issuer's JWTs. */
const cloudSignIn = (): SignIn => ({
  keys: keyStore(),
  jwt: () => ({ verifier: jwtVerifier(), adminGroup: settings().FAULTLINE_ADMIN_GROUP }),
});

/**
 * The WebSocket API's $connect authorizer (REQUEST, an IAM policy), the same function and the same sign-in as the
 * HTTP API's: the credential in a header or, from browsers, in the URL (auth/live-sign-in.ts). A refused one gets
 * 401 (the thrown 'Unauthorized'); the context tells the $connect handler who connected.
 */
async function liveAuthorizer(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const principal = await authenticate(
    liveCredentials(event.headers ?? {}, event.queryStringParameters ?? {}),
    cloudSignIn(),
  );
  if (!principal) throw new Error('Unauthorized');
  return {
    principalId: principal.subject,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context: toAuthorizerContext(principal),
  };
}

/** Both APIs' authorizer (HTTP API: simple responses; WebSocket $connect: an IAM policy), with Powertools' telemetry. */
export const handler = withLambdaTelemetry(authorize) as {
  (
    event: APIGatewayRequestAuthorizerEventV2,
    context?: Context,
  ): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext>>;
  (event: APIGatewayRequestAuthorizerEvent, context?: Context): Promise<APIGatewayAuthorizerResult>;
};

async function authorize(
  event: APIGatewayRequestAuthorizerEventV2 | APIGatewayRequestAuthorizerEvent,
): Promise<APIGatewaySimpleAuthorizerWithContextResult<AuthorizerContext> | APIGatewayAuthorizerResult> {
  if ('methodArn' in event) return liveAuthorizer(event);
  // Public routes: their handlers need no caller (api/http/route-handler.ts), so none is looked up.
  if (settings().FAULTLINE_PUBLIC_ROUTES.has(event.routeKey))
    return { isAuthorized: true, context: { subject: '', kind: '', admin: 'false', projectIds: '' } };
  const headers = event.headers ?? {};
  // No credential at all, on a route of an open group, from a listed network: that group's caller, on one project.
  // The rate limit of these routes is API Gateway's route throttling (lib/api.ts).
  const group: CompatGroup | undefined = settings().FAULTLINE_OPEN_ROUTE_GROUPS[event.routeKey];
  const anonymous = !sendsCredential(headers)
    ? openPrincipal(open().access, group, event.requestContext?.http?.sourceIp ?? '')
    : undefined;
  const principal = anonymous ?? (await authenticate(headers, cloudSignIn()));
  return principal
    ? { isAuthorized: true, context: toAuthorizerContext(principal) }
    : { isAuthorized: false, context: { subject: '', kind: '', admin: 'false', projectIds: '' } };
}
