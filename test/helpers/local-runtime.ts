import type { LocalRuntime } from '../../functions/local/runtime.ts';
import { loadLocalSettings, type LocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';

/** The local runtime's settings for a test: its own data folder, every port free, plus what the test sets. */
export const testSettings = (dataDir: string, extra: Record<string, string> = {}): LocalSettings =>
  loadLocalSettings({
    ...isolatedRuntimeEnv(dataDir),
    ...extra,
  });

/**
 * The API of a test's runtime with its key: `api` answers status and JSON body, `createProject` makes a project of a
 * kind and answers its id. `runtime` is read at each call (tests start it in beforeAll).
 */
export function runtimeApi(runtime: () => LocalRuntime) {
  const api = async (path: string, init?: RequestInit) => {
    const response = await fetch(`${runtime().url}${path}`, {
      ...init,
      headers: { 'x-api-key': runtime().apiKey!, ...(init?.headers as Record<string, string>) },
    });
    return { status: response.status, body: (await response.json()) as any };
  };
  const createProject = async (name: string, kind: string) =>
    (
      await api('/api/v1/projects', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, kind }),
      })
    ).body.id as string;
  return { api, createProject };
}
