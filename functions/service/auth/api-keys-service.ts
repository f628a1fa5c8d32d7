import { createHash, randomBytes } from 'node:crypto';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ApiKeyRecord } from '../store/api-key-repository.ts';

/** Keys look like `flk_<43 base64url characters>` (256 random bits); the prefix makes a leaked key easy to spot. */
const PREFIX = 'flk_';

export const hashApiKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export type ApiKeyView = Omit<ApiKeyRecord, 'hash'>;

/** What key management needs: the authorizer builds just this, without the engine. */
export type KeyServices = Pick<Services, 'apiKeys' | 'log'>;

const view = ({ hash, ...rest }: ApiKeyRecord): ApiKeyView => rest;

/** Makes a key for a machine client; the secret is returned once and only its hash is kept. */
export async function createApiKey(s: KeyServices, name: string): Promise<ApiKeyView & { key: string }> {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = { id: randomBytes(6).toString('hex'), name, hash: hashApiKey(secret), createdAt: new Date().toISOString() };
  await s.apiKeys.create(record);
  s.log({ msg: 'api key created', keyId: record.id, name });
  return { ...view(record), key: secret };
}

export async function listApiKeys(s: KeyServices): Promise<ApiKeyView[]> {
  return (await s.apiKeys.list()).map(view);
}

export async function revokeApiKey(s: KeyServices, id: string): Promise<void> {
  const record = (await s.apiKeys.list()).find((k) => k.id === id);
  if (!record || !(await s.apiKeys.delete(record.hash))) throw new ServiceError('NOT_FOUND', `no API key ${id}`, { keyId: id });
  s.log({ msg: 'api key revoked', keyId: id });
}

/** The key a presented secret belongs to, if any. */
export async function verifyApiKey(s: Pick<Services, 'apiKeys'>, secret: string): Promise<ApiKeyView | undefined> {
  if (!secret.startsWith(PREFIX) || secret.length > 200) return undefined;
  const record = await s.apiKeys.findByHash(hashApiKey(secret));
  return record ? view(record) : undefined;
}
