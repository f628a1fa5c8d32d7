import { createHash, randomBytes } from 'node:crypto';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ApiKeyRecord } from '../ports/api-key-store.ts';
import { canAccessProject, forbidden, type Principal, requireUnscoped } from './principal.ts';

/** Keys look like `flk_<43 base64url characters>` (256 random bits); the prefix makes a leaked key easy to spot. */
const PREFIX = 'flk_';

export const hashApiKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export type ApiKeyView = Omit<ApiKeyRecord, 'hash'>;

/** What key management needs: the authorizer builds just this, without the engine. */
export type KeyServices = Pick<Services, 'apiKeys' | 'log'>;

const view = ({ hash, ...rest }: ApiKeyRecord): ApiKeyView => ({
  ...rest,
  admin: rest.admin ?? rest.projectIds == null,
  projectIds: rest.projectIds ?? null,
});

export interface NewApiKey {
  name: string;
  /** An administrator's key (only an administrator can make one). */
  admin?: boolean;
  /** The projects the key may use; required unless admin. */
  projectIds?: string[];
}

/**
 * Makes a key for a machine client; the secret is returned once and only its hash is kept. An administrator can
 * make any key; a person only keys scoped to projects they can see; a scoped key none.
 */
export async function createApiKey(
  s: Pick<Services, 'apiKeys' | 'log' | 'projects'>,
  by: Principal,
  input: NewApiKey,
): Promise<ApiKeyView & { key: string }> {
  requireUnscoped(by, 'making API keys');
  if (input.admin && input.projectIds?.length)
    throw new ServiceError('VALIDATION_FAILED', 'a key is either an administrator key or scoped to projects, not both');
  if (input.admin && !by.admin) throw forbidden("only an administrator can make an administrator's key");
  if (!input.admin && !input.projectIds?.length)
    throw new ServiceError(
      'VALIDATION_FAILED',
      'give the projects the key may use ("projectIds"), or make an administrator key ("admin": true)',
    );
  const projectIds = input.admin ? null : [...new Set(input.projectIds)];
  for (const id of projectIds ?? []) {
    const project = await s.projects.get(id);
    // An unknown project and one the caller cannot see read the same, so that ids cannot be probed.
    if (!project || !canAccessProject(by, project))
      throw new ServiceError('PROJECT_NOT_FOUND', `no project ${id}`, { projectId: id });
  }
  return mintApiKey(s, { name: input.name, createdBy: by.subject, admin: !!input.admin, projectIds });
}

/** Stores a new key without checking who asks: for the local runtime's own administrator key. */
export async function mintApiKey(
  s: KeyServices,
  fields: Pick<ApiKeyRecord, 'name' | 'createdBy' | 'admin' | 'projectIds'>,
): Promise<ApiKeyView & { key: string }> {
  const secret = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id: randomBytes(6).toString('hex'),
    hash: hashApiKey(secret),
    createdAt: new Date().toISOString(),
    ...fields,
  };
  await s.apiKeys.create(record);
  s.log({
    msg: 'api key created',
    keyId: record.id,
    name: record.name,
    admin: record.admin,
    projects: record.projectIds?.length ?? 'all',
  });
  return { ...view(record), key: secret };
}

/** Administrators see every key; people the keys they made. */
export async function listApiKeys(s: KeyServices, by: Principal): Promise<ApiKeyView[]> {
  requireUnscoped(by, 'listing API keys');
  return (await s.apiKeys.list()).filter((k) => by.admin || k.createdBy === by.subject).map(view);
}

export async function revokeApiKey(s: KeyServices, by: Principal, id: string): Promise<void> {
  requireUnscoped(by, 'revoking API keys');
  const record = (await s.apiKeys.list()).find((k) => k.id === id && (by.admin || k.createdBy === by.subject));
  if (!record || !(await s.apiKeys.delete(record.hash)))
    throw new ServiceError('NOT_FOUND', `no API key ${id}`, { keyId: id });
  s.log({ msg: 'api key revoked', keyId: id });
}

/** The key a presented secret belongs to, if any. */
export async function verifyApiKey(s: Pick<Services, 'apiKeys'>, secret: string): Promise<ApiKeyView | undefined> {
  if (!secret.startsWith(PREFIX) || secret.length > 200) return undefined;
  const record = await s.apiKeys.findByHash(hashApiKey(secret));
  return record ? view(record) : undefined;
}

/** The caller a live key stands for. */
export const keyPrincipal = (key: ApiKeyView): Principal => ({
  kind: 'api-key',
  subject: `key:${key.id}`,
  admin: !!key.admin,
  projectIds: key.admin ? null : (key.projectIds ?? null),
});
