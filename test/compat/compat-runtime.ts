import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { LOCAL_ADMIN } from '../../functions/service/auth/principal.ts';
import { silentLog } from '../../functions/service/log.ts';
import { createProjectSchema } from '../../functions/service/domain/project.ts';
import { createProject } from '../../functions/service/projects/projects-service.ts';
import { testSettings } from '../helpers/local-runtime.ts';

/**
 * A runtime as an operator sets it up for an older service's clients: a project made first (through the service, as
 * the console would), then the runtime started again with it as the default project and the named compatibility
 * groups open to loopback without a key. The clients then speak plain HTTP.
 */
export async function startCompatRuntime(
  groups: string,
  extra: Record<string, string> = {},
): Promise<{ runtime: LocalRuntime; projectId: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-compat-'));
  const base = { FAULTLINE_WORKERS: '0', FAULTLINE_ACCESS_LOG: 'false', ...extra };
  const setup = await startLocalRuntime(testSettings(dir, base), silentLog);
  const project = await createProject(setup.services, createProjectSchema.parse({ name: 'line-1' }), LOCAL_ADMIN);
  await setup.stop();
  const runtime = await startLocalRuntime(
    testSettings(dir, {
      ...base,
      FAULTLINE_DEFAULT_PROJECT: project.id,
      FAULTLINE_OPEN_ROUTES: groups,
      FAULTLINE_OPEN_NETWORKS: '127.0.0.1/32,::1/128',
      FAULTLINE_OPEN_RATE_LIMIT: '1000',
      FAULTLINE_OPEN_RATE_BURST: '1000',
      ...extra,
    }),
    silentLog,
  );
  return {
    runtime,
    projectId: project.id,
    stop: async () => {
      await runtime.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The cookie category of the evaluation images. */
export const COOKIE = join(sharedDir(), 'datasets', 'cookie');
