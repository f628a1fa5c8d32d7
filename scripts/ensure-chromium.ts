/**
 * Run before `npm test` (pretest): the web console's browser tests drive Debian's Chromium at /usr/bin/chromium.
 * When it is missing and this runs as root with apt-get, it is installed; otherwise this says how, and the browser
 * tests fail with the same advice.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CHROMIUM_PATH, INSTALL_CHROMIUM } from '../test/console/browser.ts';

if (!existsSync(CHROMIUM_PATH)) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    process.stdout.write(
      `${CHROMIUM_PATH} is missing; installing Debian's chromium for the console's browser tests...\n`,
    );
    const run = spawnSync(
      'sh',
      ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium'],
      { stdio: 'inherit' },
    );
    if (run.status !== 0) process.stderr.write(`Installing chromium failed; ${INSTALL_CHROMIUM}\n`);
  } else {
    process.stderr.write(`${CHROMIUM_PATH} is missing: the console's browser tests will fail. ${INSTALL_CHROMIUM}\n`);
  }
}
