import { z } from 'zod';
import { createApiKey, listApiKeys, revokeApiKey } from '../../service/auth/api-keys-service.ts';
import { defineRoute } from '../http/route.ts';

const tags = ['Access'];
const apiKeySchema = z.object({ id: z.string(), name: z.string(), createdAt: z.iso.datetime() }).meta({ id: 'ApiKey' });

/** API keys for machine clients (sent as x-api-key); people sign in and send a JWT. */
export const apiKeyRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key for a machine client',
    description: 'The key is in this answer only; the service keeps its SHA-256. Send it as the x-api-key header.',
    tags,
    body: { json: z.object({ name: z.string().trim().min(1).max(100) }).strict().meta({ id: 'CreateApiKey' }) },
    success: { status: 201, description: 'The new key', schema: apiKeySchema.extend({ key: z.string() }) },
    handle: async ({ body }, s) => ({ status: 201, body: await createApiKey(s, body.name) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/api-keys',
    operationId: 'listApiKeys',
    summary: 'List API keys (without their secrets)',
    tags,
    success: { status: 200, description: 'The keys', schema: z.object({ items: z.array(apiKeySchema) }) },
    handle: async (_, s) => ({ status: 200, body: { items: await listApiKeys(s) } }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/v1/api-keys/{keyId}',
    operationId: 'revokeApiKey',
    summary: 'Revoke an API key',
    tags,
    params: z.object({ keyId: z.string().regex(/^[0-9a-f]{12}$/) }),
    success: { status: 204, description: 'Revoked' },
    errors: [404],
    handle: async ({ params }, s) => {
      await revokeApiKey(s, params.keyId);
      return { status: 204 };
    },
  }),
];
