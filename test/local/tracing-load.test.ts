import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../functions/engine/paths.ts';

/**
 * The X-Ray SDK (behind Powertools' Tracer) installs an async_hooks destroy hook as it loads, which slows every promise
 * in the process: it is loaded only where the Tracer records. Each case runs in its own process, since whether the
 * hook is in place is decided when powertools.ts is first imported.
 */
const probe = `
const { powertools } = await import('./functions/service/adapters/powertools.ts');
const { tracer } = powertools();
const client = { send: async () => 'sent', middlewareStack: { remove() {}, add() {}, use() {}, addRelativeTo() {} } };
const wrapped = tracer.captureAWSv3Client(client);
console.log(JSON.stringify({
  xrayLoaded: process.namespaces !== undefined && 'AWSXRay' in process.namespaces,
  tracing: tracer.isTracingEnabled(),
  powertoolsTracer: tracer.powertools !== undefined,
  sameClient: wrapped === client,
}));
`;

async function run(env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(AWS_EXECUTION_ENV|AWS_SAM_LOCAL|POWERTOOLS_TRACE_ENABLED)$/.test(k),
    ),
  );
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', probe],
    {
      cwd: projectRoot(),
      env: { ...clean, ...env },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('tracing is loaded only where it records', () => {
  it('locally (no AWS execution environment): no X-Ray SDK, clients left as they are', async () => {
    expect(await run({})).toEqual({ xrayLoaded: false, tracing: false, powertoolsTracer: false, sameClient: true });
  }, 60_000);

  it('in Lambda: the Powertools Tracer, with X-Ray in automatic mode', async () => {
    const inLambda = await run({
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
    });
    expect(inLambda).toMatchObject({ tracing: true, powertoolsTracer: true });
    expect(inLambda.xrayLoaded).toBe(true);
  }, 60_000);

  it('in Lambda with POWERTOOLS_TRACE_ENABLED=false: nothing loaded', async () => {
    expect(await run({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' })).toMatchObject({
      xrayLoaded: false,
      tracing: false,
    });
  }, 60_000);
});
