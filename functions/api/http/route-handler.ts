import middy from '@middy/core';
import httpMultipartBodyParser from '@middy/http-multipart-body-parser';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { fromAuthorizerContext, LOCAL_ADMIN, type Principal, requireAdmin } from '../../service/auth/principal.ts';
import { ServiceError } from '../../service/errors.ts';
import { authorizeProject } from '../../service/projects/projects-service.ts';
import type { Services } from '../../service/services.ts';
import { CORRELATION_ID, withTelemetry } from '../../service/telemetry/context.ts';
import { HttpError, RequestValidationError, toErrorResponse, zodIssues } from './errors.ts';
import type { RouteDefinition, UploadedPart } from './route.ts';

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/** Text fields a multipart request may carry, and the bytes of each value; more is refused, never cut. */
export const MAX_FORM_FIELDS = 20;
export const MAX_FORM_FIELD_BYTES = 1000;

// A lone surrogate: a `u` regex reads a proper pair as one code point, so only an unpaired half matches.
const LONE_SURROGATE = /\p{Cs}/u;

/** Where in a value (object keys included) the first string that is not well-formed Unicode is, if any. */
function illFormedAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = illFormedAt(v, `${path}[${i}]`);
      if (at !== undefined) return at;
    }
  } else if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [k, v] of Object.entries(value)) {
      const at = LONE_SURROGATE.test(k) ? `${path}.${k}` : illFormedAt(v, path ? `${path}.${k}` : k);
      if (at !== undefined) return at;
    }
  }
  return undefined;
}

/**
 * Every string a route reads must be well-formed Unicode: a lone surrogate (JSON's "\ud800") cannot be stored or
 * typed back as it was (a project named so could not be confirmed for deletion).
 */
function requireWellFormed(value: unknown, where: RequestValidationError['where']): void {
  const at = illFormedAt(value, '');
  if (at !== undefined)
    throw new RequestValidationError(where, [
      { path: at, message: 'not well-formed Unicode (an unpaired surrogate, e.g. \\ud800)' },
    ]);
}

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

function validate<T extends z.ZodType>(
  schema: T | undefined,
  value: unknown,
  where: RequestValidationError['where'],
): z.infer<T> | undefined {
  if (!schema) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new RequestValidationError(where, zodIssues(parsed.error));
  return parsed.data;
}

function jsonBody(event: APIGatewayProxyEventV2, csv?: (text: string) => unknown): unknown {
  const type = event.headers['content-type'] ?? '';
  if (!event.body) throw new HttpError(400, 'EMPTY_BODY', 'the request needs a JSON body');
  if (csv && /^text\/csv\b/i.test(type))
    return csv(event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body);
  if (!/^application\/(.+\+)?json\b/i.test(type))
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as application/json (got ${type || 'no content type'})`,
    );
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'MALFORMED_JSON', `the body is not valid JSON: ${(error as Error).message}`);
  }
}

/** Multipart parts as middy's parser leaves them: a field is a string, a file object, or an array of either. */
function splitMultipart(
  body: Record<string, unknown>,
  route: RouteDefinition,
  maxBytes: number,
): { fields: Record<string, unknown>; files: Record<string, UploadedPart[]> } {
  const fields: Record<string, unknown> = {};
  const files: Record<string, UploadedPart[]> = {};
  const spec = route.body!.multipart;
  // The parser keeps one field over each limit, so that a request past it is refused here rather than cut short.
  const fieldCount = Object.values(body)
    .flat()
    .filter((v) => typeof v === 'string').length;
  if (fieldCount > MAX_FORM_FIELDS)
    throw new HttpError(413, 'TOO_MANY_FIELDS', `at most ${MAX_FORM_FIELDS} form fields per request`);
  for (const [name, value] of Object.entries(body)) {
    for (const v of [value].flat()) {
      if (typeof v === 'string' && Buffer.byteLength(v) > MAX_FORM_FIELD_BYTES)
        throw new HttpError(413, 'FIELD_TOO_LARGE', `form field "${name}" is over ${MAX_FORM_FIELD_BYTES} bytes`);
    }
  }
  const known = new Set([...Object.keys(spec.fields.shape), ...spec.files.map((f: { name: string }) => f.name)]);
  const unknown = Object.keys(body).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      'UNKNOWN_FIELD',
      `unknown form fields: ${unknown.map((n) => `"${n}"`).join(', ')} (this route takes ${[...known].map((n) => `"${n}"`).join(', ')})`,
      { fields: unknown },
    );
  }
  for (const [name, value] of Object.entries(body)) {
    const values = Array.isArray(value) ? [...value].reverse() : [value]; // the parser prepends repeats
    const parts = values.filter(
      (v): v is { filename: string; mimetype: string; content: Buffer; truncated?: boolean } =>
        typeof v === 'object' && v !== null && 'content' in v,
    );
    if (parts.length > 0) {
      const spec = route.body?.multipart.files.find((f: { name: string }) => f.name === name);
      if (!spec) throw new HttpError(400, 'UNEXPECTED_FILE', `unexpected file field "${name}"`);
      for (const p of parts)
        if (p.truncated)
          throw new HttpError(413, 'PAYLOAD_TOO_LARGE', `${p.filename || name} is larger than ${maxBytes} bytes`);
      if (parts.length > 1 && !spec.multiple)
        throw new HttpError(400, 'TOO_MANY_FILES', `field "${name}" takes one file`);
      files[name] = parts.map((p) => ({ field: name, filename: p.filename, mimetype: p.mimetype, content: p.content }));
      requireWellFormed(
        parts.map((p) => p.filename),
        'body',
      );
    } else fields[name] = value;
  }
  requireWellFormed(fields, 'body');
  for (const spec of route.body?.multipart.files ?? []) {
    if (spec.required && !files[spec.name])
      throw new RequestValidationError('body', [
        { path: spec.name, message: `a file in multipart field "${spec.name}" is required` },
      ]);
  }
  return { fields, files };
}

/**
 * Wraps a route into a Lambda handler (API Gateway HTTP API, payload 2.0): validation in, JSON or errors out. The
 * middleware chain is built on the first call, when the settings it needs have been loaded.
 */
export function routeHandler(route: RouteDefinition, services: () => Services): ApiHandler {
  let built: ApiHandler | undefined;
  const name = `${route.method} ${route.path}`;
  return (event, context) => {
    built ??= buildHandler(route, services);
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const given = event.headers?.['x-correlation-id'];
    const correlationId = given && CORRELATION_ID.test(given) ? given : requestId;
    // Everything the request causes (its log lines, the queued work, the events) carries these ids.
    return withTelemetry({ requestId, correlationId }, async () => {
      const started = performance.now();
      const response = await built!(event, context);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const s = servicesIfLoaded(services);
      s?.metrics.record('RequestLatency', ms, { Route: name });
      s?.log({ msg: 'request', route: name, status: response.statusCode, ms });
      return response;
    });
  };
}

/** The services, or none when their settings could not be loaded (the request has been answered with the error). */
function servicesIfLoaded(services: () => Services): Services | undefined {
  try {
    return services();
  } catch {
    return undefined;
  }
}

/**
 * The caller, from the Lambda authorizer's context (AWS; the local runtime puts the same context on the event). No
 * context on a protected route means no authorizer ran: refused, unless the local runtime runs with auth off.
 */
function principalOf(event: APIGatewayProxyEventV2, route: RouteDefinition, s: Services): Principal {
  const context = (event.requestContext as { authorizer?: { lambda?: Record<string, unknown> } } | undefined)
    ?.authorizer?.lambda;
  const principal = fromAuthorizerContext(context);
  if (principal) return principal;
  if (route.public || s.config.FAULTLINE_AUTH === 'none') return LOCAL_ADMIN;
  throw new ServiceError(
    'UNAUTHORIZED',
    'no credentials: send an API key (x-api-key) or a JWT (Authorization: Bearer)',
  );
}

function buildHandler(route: RouteDefinition, services: () => Services): ApiHandler {
  const base = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const s = services();
    const requestId = event.requestContext?.requestId ?? 'unknown';
    const principal = principalOf(event, route, s);
    if (route.admin) requireAdmin(principal, `${route.method} ${route.path}`);
    requireWellFormed(event.pathParameters, 'path');
    const params = validate(route.params, event.pathParameters ?? {}, 'path');
    // Every route on a project checks the caller here, once, so that no route can forget it.
    const projectId = (params as { projectId?: unknown } | undefined)?.projectId;
    const project = typeof projectId === 'string' ? await authorizeProject(s, projectId, principal) : undefined;
    requireWellFormed(event.queryStringParameters, 'query');
    const query = validate(route.query, event.queryStringParameters ?? {}, 'query');
    let body: unknown;
    let files: Record<string, UploadedPart[]> = {};
    if (route.body && 'json' in route.body) {
      const parsed = jsonBody(event, route.body.csv);
      requireWellFormed(parsed, 'body');
      body = validate(route.body.json, parsed, 'body');
    }
    if (route.body && 'raw' in route.body) {
      const type = (event.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!route.body.raw.contentTypes.includes(type))
        throw new HttpError(
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          `send the body as ${route.body.raw.contentTypes.join(' or ')} (got ${type || 'no content type'})`,
        );
      const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      if (bytes.length === 0) throw new HttpError(400, 'EMPTY_BODY', 'the request has no body');
      if (bytes.length > s.config.FAULTLINE_MAX_IMAGE_BYTES)
        throw new HttpError(
          413,
          'PAYLOAD_TOO_LARGE',
          `the image is larger than ${s.config.FAULTLINE_MAX_IMAGE_BYTES} bytes`,
        );
      body = { bytes, contentType: type };
    }
    if (route.body && 'multipart' in route.body) {
      const split = splitMultipart(
        (event.body ?? {}) as unknown as Record<string, unknown>,
        route,
        route.maxFileBytes?.(s.config) ?? s.config.FAULTLINE_MAX_IMAGE_BYTES,
      );
      const fileCount = Object.values(split.files).reduce((n, f) => n + f.length, 0);
      if (fileCount > s.config.FAULTLINE_MAX_FILES)
        throw new HttpError(
          413,
          'TOO_MANY_FILES',
          `at most ${s.config.FAULTLINE_MAX_FILES} files per request (got ${fileCount})`,
        );
      body = validate(route.body.multipart.fields, split.fields, 'body');
      files = split.files;
    }
    const result = await route.handle(
      { params, query, body, files, headers: event.headers ?? {}, requestId, principal, project } as never,
      s,
    );
    if (result.body === undefined)
      return { statusCode: result.status, headers: { ...result.headers, 'x-request-id': requestId } };
    if (Buffer.isBuffer(result.body))
      return {
        statusCode: result.status,
        headers: { 'cache-control': 'no-store', ...result.headers, 'x-request-id': requestId },
        body: result.body.toString('base64'),
        isBase64Encoded: true,
      };
    return {
      statusCode: result.status,
      headers: { ...JSON_HEADERS, ...result.headers, 'x-request-id': requestId },
      body: JSON.stringify(result.body),
    };
  };

  let handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>(base);
  handler = handler.use({
    onError: async (request) => {
      const requestId = request.event.requestContext?.requestId ?? 'unknown';
      const { status, body, internal } = toErrorResponse(request.error, requestId);
      const log = servicesIfLoaded(services)?.log ?? console.error;
      if (internal)
        log({
          level: 'error',
          msg: 'request failed',
          route: `${route.method} ${route.path}`,
          requestId,
          error: (request.error as Error)?.stack ?? String(request.error),
        });
      const shaped = route.errorShape?.render({
        status,
        code: body.error.code,
        message: body.error.message,
        requestId,
      });
      request.response = {
        statusCode: shaped?.status ?? status,
        headers: { ...JSON_HEADERS, ...shaped?.headers, 'x-request-id': requestId },
        body: JSON.stringify(shaped ? shaped.body : body),
      };
    },
  });
  if (route.body && 'multipart' in route.body) {
    handler = handler.use({
      before: async (request) => {
        const type = request.event.headers?.['content-type'] ?? '';
        if (!/^multipart\/form-data/i.test(type))
          throw new HttpError(
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `send the body as multipart/form-data (got ${type || 'no content type'})`,
          );
        if (!request.event.body) throw new HttpError(400, 'EMPTY_BODY', 'the request has no body');
      },
    });
    const s = () => services().config;
    handler = handler.use(
      httpMultipartBodyParser({
        busboy: {
          limits: {
            fileSize: route.maxFileBytes?.(s()) ?? s().FAULTLINE_MAX_IMAGE_BYTES,
            files: s().FAULTLINE_MAX_FILES + 1,
            fields: MAX_FORM_FIELDS + 1,
            fieldSize: MAX_FORM_FIELD_BYTES + 1,
          },
        },
        charset: 'utf8',
      }) as unknown as middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>,
    );
  }
  return handler;
}
