import type { ApiKeyRecord, ApiKeyStore } from '../service/ports/api-key-store.ts';

/** Keys remembered at most: a bound on memory, however many keys the table holds. */
export const CACHED_KEYS = 1_000;
/** How long a key found is trusted without asking the table again: a bound on anything written past this process. */
export const CACHED_KEY_MS = 60_000;

/**
 * The key table as the local runtime's sign-in reads it: a key found is remembered (by its hash) for a minute, so a
 * request costs no table read for its key; revoking a key through this store forgets it at once. That is exact here
 * because the local runtime is the only writer of its data folder (data-dir-lock.ts), so every revocation passes
 * through this store; in AWS the authorizer asks the table each time (its results cache TTL is 0). Keys not found
 * are not remembered: random secrets must not fill the memory, and a key created a moment ago must work at once.
 */
export function cachedApiKeys(store: ApiKeyStore, now: () => number = Date.now): ApiKeyStore {
  const found = new Map<string, { record: ApiKeyRecord; until: number }>();
  // Counts revocations: a lookup under way while one happened does not remember what it read (it may be the key
  // just deleted).
  let revocations = 0;
  return {
    create: (record) => store.create(record),
    list: () => store.list(),
    async findByHash(hash) {
      const hit = found.get(hash);
      if (hit && hit.until > now()) return hit.record;
      found.delete(hash);
      const before = revocations;
      const record = await store.findByHash(hash);
      if (record && before === revocations) {
        // Oldest first out (a Map keeps insertion order).
        if (found.size >= CACHED_KEYS) found.delete(found.keys().next().value!);
        found.set(hash, { record, until: now() + CACHED_KEY_MS });
      }
      return record;
    },
    async delete(hash) {
      revocations++;
      found.delete(hash);
      try {
        return await store.delete(hash);
      } finally {
        revocations++;
        found.delete(hash);
      }
    },
  };
}
