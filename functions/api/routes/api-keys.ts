import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../service/auth/api-keys-service.ts';
import { defineRoute } from '../http/route.ts';

const tags = ['Access'];
const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    createdAt: z.iso.datetime(),
    createdBy: z.string().optional(),
    admin: z.boolean().meta({ description: "An administrator's key: every project, every key" }),
    projectIds: z.array(z.string()).nullable().meta({ description: 'The only projects a scoped key may use' }),
  })
  .meta({ id: 'ApiKey' });

/** API keys for machine clients (sent as x-api-key); people sign in and send a JWT. */
export const apiKeyRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key for a machine client',
    description:
      'The key is in this answer only; the service keeps its SHA-256. Send it as the x-api-key header. A key is scoped to projects the caller can see (`projectIds`), or, made by an administrator, an administrator key (`admin: true`). Keys scoped to projects cannot make keys or projects.',
    tags,
    body: {
      json: z
        .object({
          name: z.string().trim().min(1).max(100),
          projectIds: z.array(z.uuid()).min(1).max(100).optional(),
          admin: z.boolean().optional(),
        })
        .strict()
        .meta({ id: 'CreateApiKey' }),
    },
    success: { status: 201, description: 'The new key', schema: apiKeySchema.extend({ key: z.string() }) },
    errors: [403, 404],
    handle: async ({ body, principal }, s) => ({ status: 201, body: await createApiKey(s, principal, body) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/api-keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (without their secrets): all for an administrator, else the ones the caller made',
    tags,
    success: { status: 200, description: 'The keys', schema: z.object({ items: z.array(apiKeySchema) }) },
    errors: [403],
    handle: async ({ principal }, s) => ({ status: 200, body: { items: await listApiKeys(s, principal) } }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/v1/api-keys/{keyId}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    tags,
    params: z.object({ keyId: z.string().regex(/^[0-9a-f]{12}$/) }),
    success: { status: 204, description: 'Revoked' },
    errors: [403, 404],
    handle: async ({ params, principal }, s) => {
      await revokeApiKey(s, principal, params.keyId);
      return { status: 204 };
    },
  }),
];
