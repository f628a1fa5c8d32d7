import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The key the local runtime signs page cursors with: made at first start and kept in DATA_DIR/cursor-secret
 * (readable by this user only), so that a cursor given out before a restart still works after it.
 */
export async function localCursorSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, 'cursor-secret');
  if (existsSync(file)) {
    const secret = (await readFile(file, 'utf8')).trim();
    if (secret.length >= 32) return secret;
  }
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
