import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FaultlineError } from '../../engine/errors.ts';
import { EXIT_FAILURE, printJson } from '../output.ts';

/** `faultline redrive`: after a fix, the dead-letter queue goes back to the workers (through the API, as an administrator). */
export function registerRedrive(program: Command): void {
  program
    .command('redrive')
    .description(
      "send the dead-letter queue back to the workers and run its FAILED jobs again (needs an administrator's API key)",
    )
    .option('--url <url>', 'the API', process.env.FAULTLINE_URL ?? 'http://127.0.0.1:3000')
    .option(
      '--api-key <key>',
      'an administrator key (default: FAULTLINE_API_KEY, else the local runtime’s DATA_DIR/api-key)',
    )
    .action(async (flags: { url: string; apiKey?: string }) => {
      const key = flags.apiKey ?? process.env.FAULTLINE_API_KEY ?? localKey();
      // The service's failures are failures of the work (exit 1, its error code kept), not a wrong invocation.
      const fail = (error: { code: string; message: string }) => {
        process.stderr.write(`${JSON.stringify({ error })}\n`);
        process.exitCode = EXIT_FAILURE;
      };
      let response: Response;
      try {
        response = await fetch(`${flags.url.replace(/\/$/, '')}/api/v1/dead-letters/redrive`, {
          method: 'POST',
          headers: { 'x-api-key': key },
        });
      } catch (error) {
        return fail({
          code: 'SERVICE_UNREACHABLE',
          message: `cannot reach ${flags.url}: ${(error as Error).message} (is the service running?)`,
        });
      }
      const text = await response.text();
      let body: { error?: { code?: string; message?: string } } | undefined;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      if (!response.ok)
        return fail({
          code: body?.error?.code ?? `HTTP_${response.status}`,
          message: `the service answered ${response.status}: ${body?.error?.message ?? text.slice(0, 200)}`,
        });
      printJson(body);
    });
}

function localKey(): string {
  const file = join(process.env.FAULTLINE_DATA_DIR ?? '.faultline', 'api-key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new FaultlineError(
      'INVALID_OPTION',
      `no API key: pass --api-key, set FAULTLINE_API_KEY, or run where ${file} exists`,
    );
  }
}
