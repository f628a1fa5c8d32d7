import { loadLocalSettings, type LocalSettings, isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';

/** The local runtime's settings for a test: its own data folder, every port free, plus what the test sets. */
export const testSettings = (dataDir: string, extra: Record<string, string> = {}): LocalSettings =>
  loadLocalSettings({
    ...isolatedRuntimeEnv(dataDir),
    ...extra,
  });
