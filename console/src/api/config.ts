/** What the deployment tells the console: where the API is ('' = this origin) and whether it asks for a key. */
export interface ConsoleConfig {
  apiUrl: string;
  authRequired: boolean;
  /** Where the live feed (WebSocket) is when not at /ws on the API's origin, e.g. an API Gateway WebSocket API. */
  liveUrl?: string;
}

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
  };
}
