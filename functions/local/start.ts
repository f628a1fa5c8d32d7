/**
 * `npm start`: the whole service on this machine. Settings come from environment variables (see the README); the
 * data stays under FAULTLINE_DATA_DIR (default .faultline/) across restarts.
 */
import { join } from 'node:path';
import { jsonLog } from '../service/log.ts';
import { legacyConfig } from './legacy-config.ts';
import { loadLocalSettings } from './local-settings.ts';
import { startLocalRuntime } from './runtime.ts';
import { CREDENTIALS_FILE } from './aws/stand-in-credentials.ts';

// The SDK warns that its 2027 releases will need Node 22; the versions locked here run on Node 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let settings;
try {
  // The training backend's config.yaml and APP_ variables, under the operator's own FAULTLINE_ settings.
  const legacy = legacyConfig(process.env);
  for (const { key, why } of legacy.notMapped)
    process.stderr.write(`training backend setting "${key}" is not used: ${why}\n`);
  settings = loadLocalSettings({ ...legacy.settings, ...process.env });
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}

try {
  const runtime = await startLocalRuntime(settings, jsonLog);
  const { url } = runtime;
  // Secrets are printed once (the console link signs you in) or not at all: stdout often ends up in a log file.
  const keyFile = join(runtime.dataDir, 'api-key');
  process.stdout.write(
    [
      '',
      `Faultline is running at ${url}`,
      `  Web console   ${runtime.apiKey ? `${url}/#key=${runtime.apiKey}   (signs you in with the API key)` : `${url}/`}`,
      `  API docs      ${url}/docs   (OpenAPI: ${url}/openapi.json)`,
      `  Health        ${url}/health`,
      `  S3 endpoint   ${runtime.s3Endpoint}  (bucket ${settings.bucket}, path-style, access key ${runtime.awsAccessKeyId}; secret in ${join(runtime.dataDir, CREDENTIALS_FILE)})`,
      `  Data          ${runtime.dataDir}`,
      runtime.apiKey
        ? `  API key       in ${keyFile}  (send as x-api-key)`
        : '  API key       none required (FAULTLINE_AUTH=none)',
      '',
      'Try it:',
      `  curl -s -X POST ${url}/api/v1/projects -H 'content-type: application/json'${runtime.apiKey ? ` -H "x-api-key: $(cat '${keyFile}')"` : ''} -d '{"name":"cookies"}'`,
      `  AWS_SHARED_CREDENTIALS_FILE='${join(runtime.dataDir, CREDENTIALS_FILE)}' aws --endpoint-url ${runtime.s3Endpoint} s3 ls s3://${settings.bucket}/`,
      '',
      'Stop with Ctrl+C.',
      '',
    ].join('\n'),
  );
  const shutdown = async (signal: string) => {
    process.stdout.write(`\n${signal}: stopping (work in progress is finished or left for the next start)...\n`);
    await runtime.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
} catch (error) {
  process.stderr.write(`Faultline could not start: ${(error as Error).message}\n`);
  process.exit(1);
}
