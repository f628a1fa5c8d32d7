import { z } from 'zod';
import { executionProvidersSetting } from '../../engine/paths.ts';
import { ENGINE_VERSION } from '../../engine/version.ts';
import { defineRoute, type RouteDefinition } from '../http/route.ts';
import { openApiDocument } from '../openapi.ts';

export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded']),
    model_loaded: z.boolean().meta({
      description:
        "The default project's active model is loaded and ready in this process (health loads it when it is not yet)",
    }),
    default_project: z.string().nullable(),
    active_model_version: z.number().int().nullable(),
    version: z.string(),
    checks: z.record(z.string(), z.enum(['ok', 'failed'])),
    // The Flask PatchCore service's fields, for its clients (routes/compat-flask.ts).
    model: z.literal('PatchCore'),
    memory_bank_loaded: z.boolean().meta({ description: 'The default project has a trained memory bank' }),
    device: z.string().meta({ description: 'The first execution provider asked for (cpu or cuda)' }),
  })
  .meta({ id: 'Health' });

/** Routes about the API itself; `all` is given late so that the document lists every route. */
export function metaRoutes(all: () => RouteDefinition[]) {
  return [
    defineRoute({
      method: 'GET',
      path: '/health',
      operationId: 'health',
      summary:
        'Liveness and readiness: the table answers, the default project’s model is loaded (loaded now if not yet)',
      tags: ['Service'],
      public: true,
      success: { status: 200, description: 'Health', schema: healthSchema },
      handle: async (_, s) => {
        const checks: Record<string, 'ok' | 'failed'> = {};
        const projectId = s.config.FAULTLINE_DEFAULT_PROJECT ?? null;
        let version: number | null = null;
        try {
          const project = projectId ? await s.projects.get(projectId) : undefined;
          version = project?.activeModelVersion ?? null;
          checks.table = 'ok';
        } catch {
          checks.table = 'failed';
        }
        let loaded = false;
        if (projectId !== null && version !== null) {
          // Ready means ready: load the model now (once per process; later calls find it cached) rather than answer
          // false until the first detection, which a client waiting for readiness would never send.
          try {
            await s.modelCache.detector(projectId, version);
            loaded = true;
            checks.model = 'ok';
          } catch {
            checks.model = 'failed';
          }
        }
        const ok = Object.values(checks).every((c) => c === 'ok');
        return {
          status: ok ? 200 : 503,
          body: {
            status: ok ? 'ok' : 'degraded',
            model_loaded: loaded,
            default_project: projectId,
            active_model_version: version,
            version: ENGINE_VERSION,
            checks,
            model: 'PatchCore',
            memory_bank_loaded: version !== null,
            device: executionProvidersSetting()?.split(',')[0]?.trim() || 'cpu',
          },
        };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/openapi.json',
      operationId: 'openapi',
      summary: 'This document',
      tags: ['Service'],
      public: true,
      success: { status: 200, description: 'OpenAPI 3.1', schema: z.record(z.string(), z.unknown()) },
      handle: async () => ({ status: 200, body: openApiDocument(all()) }),
    }),
  ];
}
