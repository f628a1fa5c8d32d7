import { join } from 'node:path';
import { build } from 'vite';

const root = join(import.meta.dirname, '..');
/** Where the web console's built files are; the CDK app deploys them from here. */
export const CONSOLE_DIST = join(root, 'console', 'dist');

/**
 * Builds the web console (Vite, console/vite.config.ts) into console/dist. The CDK app calls it before synthesis so
 * that `npx cdk synth` and `npx cdk deploy` work right after `npm ci` and never deploy files older than the sources
 * (a build takes seconds).
 */
export async function buildConsole(): Promise<void> {
  await build({ configFile: join(root, 'console', 'vite.config.ts'), logLevel: 'warn' });
}
