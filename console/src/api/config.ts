import type { ConsoleConfig } from './console-config.ts';

export type { ConsoleConfig, OidcConfig } from './console-config.ts';

/** Reads /config.json (written by the local runtime, or at deploy time next to the console's files). */
export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch('/config.json', { cache: 'no-cache' });
  if (!response.ok)
    throw new Error(`the console's configuration (/config.json) could not be read: HTTP ${response.status}`);
  const config = (await response.json()) as Partial<ConsoleConfig>;
  return {
    apiUrl: (config.apiUrl ?? '').replace(/\/+$/, ''),
    authRequired: config.authRequired ?? true,
    liveUrl: config.liveUrl || undefined,
    oidc: config.oidc?.authority && config.oidc.clientId ? config.oidc : undefined,
  };
}
