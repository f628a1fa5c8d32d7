import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mintApiKey, verifyApiKey } from '../service/auth/api-keys-service.ts';
import type { Services } from '../service/services.ts';

/**
 * The local runtime's key: made at first start, kept in DATA_DIR/api-key (readable by this user only) so that it can
 * be printed at every start. It is an ordinary API key: revoking it through the API makes the next start mint another.
 */
export async function localApiKey(s: Services, dataDir: string): Promise<string> {
  const file = join(dataDir, 'api-key');
  if (existsSync(file)) {
    const secret = (await readFile(file, 'utf8')).trim();
    if ((await verifyApiKey(s, secret))?.admin) return secret;
  }
  const { key } = await mintApiKey(s, { name: 'local runtime', createdBy: 'local', admin: true, projectIds: null });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return key;
}
