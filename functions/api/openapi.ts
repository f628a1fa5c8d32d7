import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { ENGINE_VERSION } from '../engine/version.ts';
import { errorResponseSchema } from './http/errors.ts';
import type { RouteDefinition } from './http/route.ts';

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid request (the body says what is wrong)',
  401: 'No valid credentials (an API key in x-api-key, or a JWT as Authorization: Bearer)',
  403: 'The credentials do not allow this (a key scoped to projects, a person who is not an administrator)',
  404: 'Not found',
  409: 'Conflict with the current state (e.g. no trained model, training already running)',
  413: 'Too large (image size, file count)',
  415: 'Unsupported media type',
  422: 'The image cannot be used (corrupt, too small)',
  429: 'Too many requests: slow down (Retry-After says when)',
  500: 'Internal error',
  501: 'Not available in this stack (the body says why)',
};

/** The OpenAPI 3.1 document, made from the same route definitions and zod schemas that validate requests. */
export function openApiDocument(routes: RouteDefinition[], serverUrl?: string): Record<string, unknown> {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
    description: 'An API key (machine clients)',
  });
  registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'A JWT from the deployment’s user pool (people; AWS only)',
  });
  for (const route of routes) {
    const body = route.body
      ? 'json' in route.body
        ? {
            content: {
              'application/json': { schema: route.body.json },
              ...(route.body.csv
                ? { 'text/csv': { schema: z.string().meta({ description: 'timestamp,value lines' }) } }
                : {}),
            },
          }
        : 'raw' in route.body
          ? {
              description: route.body.raw.description,
              content: Object.fromEntries(
                route.body.raw.contentTypes.map((t: string) => [t, { schema: z.string().meta({ format: 'binary' }) }]),
              ),
            }
          : {
              content: {
                'multipart/form-data': {
                  schema: (route.body.multipart.fields as z.ZodObject).extend(
                    Object.fromEntries(
                      route.body.multipart.files.map(
                        (f: { name: string; description: string; multiple: boolean; required: boolean }) => {
                          const file = z.string().meta({ format: 'binary', description: f.description });
                          const schema = f.multiple ? z.array(file) : file;
                          return [f.name, f.required ? schema : schema.optional()];
                        },
                      ),
                    ),
                  ),
                },
              },
            }
      : undefined;
    const errors = [
      ...new Set([
        400,
        ...(route.public ? [] : [401, 429]),
        ...(route.admin ? [403] : []),
        ...(route.errors ?? []),
        500,
      ]),
    ].sort();
    registry.registerPath({
      method: route.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete',
      path: route.path,
      operationId: route.operationId,
      summary: route.summary,
      description: route.description,
      tags: route.tags,
      security: route.public ? [] : [{ apiKey: [] }, { bearer: [] }],
      request: { params: route.params, query: route.query, body },
      responses: {
        [route.success.status]: {
          description: route.success.description,
          content: route.success.contentType
            ? { [route.success.contentType]: { schema: z.string().meta({ format: 'binary' }) } }
            : route.success.schema
              ? { 'application/json': { schema: route.success.schema } }
              : undefined,
        },
        ...Object.fromEntries(
          errors.map((status) => [
            status,
            {
              description: ERROR_TEXT[status] ?? 'Error',
              content: { 'application/json': { schema: route.errorShape?.schema ?? errorResponseSchema } },
            },
          ]),
        ),
      },
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Faultline API',
      version: ENGINE_VERSION,
      description:
        'Visual anomaly detection (PatchCore): projects, training data, training jobs, model versions, detection and results.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : undefined,
  }) as unknown as Record<string, unknown>;
}
