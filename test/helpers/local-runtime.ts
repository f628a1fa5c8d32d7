import { loadLocalSettings, type LocalSettings } from '../../functions/local/local-settings.ts';

/** The local runtime's settings for a test: its own data folder, every port free, plus what the test sets. */
export const testSettings = (dataDir: string, extra: Record<string, string> = {}): LocalSettings =>
  loadLocalSettings({
    FAULTLINE_DATA_DIR: dataDir,
    FAULTLINE_PORT: '0',
    FAULTLINE_S3_PORT: '0',
    FAULTLINE_DYNAMODB_PORT: '0',
    FAULTLINE_SQS_PORT: '0',
    ...extra,
  });
