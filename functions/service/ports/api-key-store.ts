/** An API key as stored: only the SHA-256 of the secret, never the secret. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** hex SHA-256 of the key */
  hash: string;
  createdAt: string;
  /** The subject that made it (`user:SUB`, `key:ID`, `local`); people list and revoke their own keys. */
  createdBy?: string;
  /** An administrator's key. Keys stored before scopes existed have neither field and count as administrators'. */
  admin?: boolean;
  /** The projects a scoped key may use. */
  projectIds?: string[] | null;
}

export interface ApiKeyStore {
  create(record: ApiKeyRecord): Promise<void>;
  /** The key whose secret hashes to this; a lookup by hash, so no secret is ever compared byte by byte. */
  findByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  /** False when there was no such key. */
  delete(hash: string): Promise<boolean>;
}
