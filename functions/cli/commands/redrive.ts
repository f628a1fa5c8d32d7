import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { FaultlineError } from '../../engine/errors.ts';
import { printJson } from '../output.ts';

/** `faultline redrive`: after a fix, the dead-letter queue goes back to the workers (through the API, as an administrator). */
export function registerRedrive(program: Command): void {
  program
    .command('redrive')
    .description("send the dead-letter queue back to the workers and run its FAILED jobs again (needs an administrator's API key)")
    .option('--url <url>', 'the API', process.env.FAULTLINE_URL ?? 'http://127.0.0.1:3000')
    .option('--api-key <key>', 'an administrator key (default: FAULTLINE_API_KEY, else the local runtime’s DATA_DIR/api-key)')
    .action(async (flags: { url: string; apiKey?: string }) => {
      const key = flags.apiKey ?? process.env.FAULTLINE_API_KEY ?? localKey();
      let response: Response;
      try {
        response = await fetch(`${flags.url.replace(/\/$/, '')}/api/v1/dead-letters/redrive`, { method: 'POST', headers: { 'x-api-key': key } });
      } catch (error) {
        throw new FaultlineError('INVALID_OPTION', `cannot reach ${flags.url}: ${(error as Error).message} (is the service running?)`);
      }
      const body = (await response.json()) as { error?: { message: string } };
      if (!response.ok) throw new FaultlineError('INVALID_OPTION', `the service answered ${response.status}: ${body.error?.message ?? 'no reason given'}`);
      printJson(body);
    });
}

function localKey(): string {
  const file = join(process.env.FAULTLINE_DATA_DIR ?? '.faultline', 'api-key');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new FaultlineError('INVALID_OPTION', `no API key: pass --api-key, set FAULTLINE_API_KEY, or run where ${file} exists`);
  }
}
