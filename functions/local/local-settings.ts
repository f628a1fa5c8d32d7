import { z } from 'zod';
import { type OpenAccess, openAccessFrom } from '../auth/open-access.ts';
import { type ServiceConfig, serviceConfigSchema } from '../service/config.ts';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

/** The local runtime's settings, from environment variables (documented in the README), checked at start. */
export const localSettingsSchema = z
  .object({
    FAULTLINE_HOST: z.string().min(1).default('127.0.0.1'),
    /** The S3, DynamoDB and SQS stand-ins listen on FAULTLINE_HOST too: anything but loopback needs this said. */
    FAULTLINE_STANDINS_PUBLIC: z.enum(['true', 'false']).default('false'),
    FAULTLINE_PORT: port(3000),
    FAULTLINE_DATA_DIR: z.string().min(1).default('.faultline'),
    FAULTLINE_S3_PORT: port(4568),
    FAULTLINE_DYNAMODB_PORT: port(4567),
    FAULTLINE_SQS_PORT: port(4566),
    FAULTLINE_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name')
      .default('faultline'),
    FAULTLINE_TABLE: z
      .string()
      .regex(/^[\w.-]{3,255}$/)
      .default('faultline'),
    FAULTLINE_DEFAULT_PROJECT: z.uuid().optional(),
    FAULTLINE_WORKERS: z.coerce.number().int().min(0).max(16).default(1),
    FAULTLINE_MAX_RECEIVES: z.coerce.number().int().min(1).max(100).default(3),
    FAULTLINE_VISIBILITY_SECONDS: z.coerce.number().int().min(1).max(43200).default(120),
    FAULTLINE_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(10 * 1024 * 1024),
    /** Bytes of request bodies held at once across all requests; a body that does not fit: 503 with Retry-After. */
    FAULTLINE_BODY_BUDGET_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024),
    /** A request body with no byte for this long, or not complete this long after its headers: 408. */
    FAULTLINE_BODY_IDLE_SECONDS: z.coerce.number().positive().default(10),
    FAULTLINE_BODY_TIMEOUT_SECONDS: z.coerce.number().positive().default(120),
    FAULTLINE_ACCESS_LOG: z.enum(['true', 'false']).default('true'),
    /** 'api-key': every route but /health, /openapi.json and /docs needs the key; 'none' for a trusted network. */
    FAULTLINE_AUTH: z.enum(['api-key', 'none']).default('api-key'),
    /** Requests a second per client address, and the burst above it (as API Gateway's throttling); 0 = no limit. */
    FAULTLINE_RATE_LIMIT: z.coerce.number().min(0).default(100),
    FAULTLINE_RATE_BURST: z.coerce.number().int().min(1).default(200),
    /** People sign in to the console with this OpenID Connect issuer (as with Cognito in AWS), beside API keys. */
    FAULTLINE_OIDC_ISSUER: z.url().optional(),
    /** The console's client id at the issuer: the `aud` of the ID tokens the API accepts. */
    FAULTLINE_OIDC_CLIENT_ID: z.string().min(1).optional(),
    /** Default ISSUER/.well-known/jwks.json. */
    FAULTLINE_OIDC_JWKS_URI: z.url().optional(),
    /** Members of this group (the `cognito:groups` claim) are administrators. */
    FAULTLINE_ADMIN_GROUP: z.string().min(1).default('faultline-admins'),
  })
  .refine((e) => !e.FAULTLINE_OIDC_ISSUER === !e.FAULTLINE_OIDC_CLIENT_ID, {
    message: 'FAULTLINE_OIDC_ISSUER and FAULTLINE_OIDC_CLIENT_ID go together',
    path: ['FAULTLINE_OIDC_CLIENT_ID'],
  })
  .refine((e) => e.FAULTLINE_BODY_BUDGET_BYTES >= e.FAULTLINE_MAX_BODY_BYTES, {
    message: 'FAULTLINE_BODY_BUDGET_BYTES must be at least FAULTLINE_MAX_BODY_BYTES',
    path: ['FAULTLINE_BODY_BUDGET_BYTES'],
  })
  .transform((e) => ({
    host: e.FAULTLINE_HOST,
    standInsPublic: e.FAULTLINE_STANDINS_PUBLIC === 'true',
    port: e.FAULTLINE_PORT,
    dataDir: e.FAULTLINE_DATA_DIR,
    s3Port: e.FAULTLINE_S3_PORT,
    dynamodbPort: e.FAULTLINE_DYNAMODB_PORT,
    sqsPort: e.FAULTLINE_SQS_PORT,
    bucket: e.FAULTLINE_BUCKET,
    table: e.FAULTLINE_TABLE,
    defaultProject: e.FAULTLINE_DEFAULT_PROJECT,
    workers: e.FAULTLINE_WORKERS,
    maxReceives: e.FAULTLINE_MAX_RECEIVES,
    visibilitySeconds: e.FAULTLINE_VISIBILITY_SECONDS,
    maxBodyBytes: e.FAULTLINE_MAX_BODY_BYTES,
    accessLog: e.FAULTLINE_ACCESS_LOG === 'true',
    auth: e.FAULTLINE_AUTH,
    rateLimit: { rate: e.FAULTLINE_RATE_LIMIT, burst: e.FAULTLINE_RATE_BURST },
    bodyBudgetBytes: e.FAULTLINE_BODY_BUDGET_BYTES,
    bodyIdleSeconds: e.FAULTLINE_BODY_IDLE_SECONDS,
    bodyTimeoutSeconds: e.FAULTLINE_BODY_TIMEOUT_SECONDS,
    oidc: e.FAULTLINE_OIDC_ISSUER
      ? {
          issuer: e.FAULTLINE_OIDC_ISSUER,
          clientId: e.FAULTLINE_OIDC_CLIENT_ID!,
          jwksUri: e.FAULTLINE_OIDC_JWKS_URI,
          adminGroup: e.FAULTLINE_ADMIN_GROUP,
        }
      : undefined,
  }));

/** Settings of the service itself (service/config.ts), unparsed: its schema checks them when the runtime starts. */
export type ServiceSettings = Partial<Record<keyof ServiceConfig, string>>;

export type LocalSettings = z.output<typeof localSettingsSchema> & {
  /** The service's settings the operator gave (FAULTLINE_PRESIGN_SECONDS, ...); the runtime sets the stand-ins' endpoints, queues and secrets over them. */
  service: ServiceSettings;
  /** Compatibility groups open to callers without a key (FAULTLINE_OPEN_*); undefined = none, the default. */
  openAccess?: OpenAccess;
};

export function loadLocalSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const parsed = localSettingsSchema.safeParse(env);
  if (!parsed.success) throw new Error(`invalid settings:\n${z.prettifyError(parsed.error)}`);
  const service: ServiceSettings = Object.fromEntries(
    Object.keys(serviceConfigSchema.shape).flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
  );
  return { ...parsed.data, service, openAccess: openAccessFrom(env, parsed.data.defaultProject) };
}

/**
 * The settings of a runtime of its own beside others (tests, benchmarks): its own data folder, every port free.
 * As environment variables, so that a child process can be started with them too.
 */
export const isolatedRuntimeEnv = (dataDir: string): Record<string, string> => ({
  FAULTLINE_DATA_DIR: dataDir,
  FAULTLINE_PORT: '0',
  FAULTLINE_S3_PORT: '0',
  FAULTLINE_DYNAMODB_PORT: '0',
  FAULTLINE_SQS_PORT: '0',
});
