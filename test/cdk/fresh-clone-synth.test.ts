import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../functions/engine/paths.ts';

/**
 * `npm ci && npx cdk synth` on a fresh clone: the working tree's files (what a clone has: nothing ignored, so no
 * console/dist and no built layer) with the installed node_modules, synthesised through cdk.json as a user would.
 */
describe('npx cdk synth on a fresh clone', () => {
  const clone = mkdtempSync(join(tmpdir(), 'faultline-clone-'));
  afterAll(() => rmSync(clone, { recursive: true, force: true }));

  it('builds the web console itself and writes the template', () => {
    const root = projectRoot();
    const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' })
      .split('\0')
      .filter((f) => f && existsSync(join(root, f)));
    for (const f of files) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      cpSync(join(root, f), join(clone, f));
    }
    symlinkSync(join(root, 'node_modules'), join(clone, 'node_modules'));
    expect(existsSync(join(clone, 'console', 'dist'))).toBe(false);

    const cdk = join(root, 'node_modules', 'aws-cdk', 'bin', 'cdk');
    execFileSync(process.execPath, [cdk, 'synth', '--quiet', '--output', join(clone, 'cdk.out')], {
      cwd: clone,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: 'true' },
    });
    expect(existsSync(join(clone, 'console', 'dist', 'index.html'))).toBe(true);
    const template = JSON.parse(readFileSync(join(clone, 'cdk.out', 'Faultline.template.json'), 'utf8'));
    expect(Object.keys(template.Resources).length).toBeGreaterThan(50);
  }, 240_000);
});
