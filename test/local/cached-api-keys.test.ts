import { describe, expect, it } from 'vitest';
import { CACHED_KEY_MS, CACHED_KEYS, cachedApiKeys } from '../../functions/local/cached-api-keys.ts';
import type { ApiKeyRecord, ApiKeyStore } from '../../functions/service/ports/api-key-store.ts';

const record = (hash: string): ApiKeyRecord => ({
  id: `id-${hash}`,
  name: hash,
  hash,
  createdAt: '2026-12-02T00:00:00Z',
});

/** The table: an in-memory key store that counts its reads, and can hold a read back until told. */
function table() {
  const keys = new Map<string, ApiKeyRecord>();
  let held: Array<() => void> | undefined;
  const store: ApiKeyStore & { reads: number; hold(): void; release(): void } = {
    reads: 0,
    create: async (r) => void keys.set(r.hash, r),
    list: async () => [...keys.values()],
    async findByHash(hash) {
      store.reads++;
      const found = keys.get(hash);
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      return found;
    },
    delete: async (hash) => keys.delete(hash),
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const resolve of waiting) resolve();
    },
  };
  return store;
}

describe('the local runtime key cache', () => {
  it('reads a key once, then answers from memory until it is revoked', async () => {
    const t = table();
    const keys = cachedApiKeys(t);
    await keys.create(record('a'));
    expect(await keys.findByHash('a')).toEqual(record('a'));
    expect(await keys.findByHash('a')).toEqual(record('a'));
    expect(t.reads).toBe(1);
    expect(await keys.delete('a')).toBe(true);
    expect(await keys.findByHash('a')).toBeUndefined();
    expect(t.reads).toBe(2);
  });

  it('does not remember keys it did not find: a key created next works at once', async () => {
    const t = table();
    const keys = cachedApiKeys(t);
    expect(await keys.findByHash('b')).toBeUndefined();
    await keys.create(record('b'));
    expect(await keys.findByHash('b')).toEqual(record('b'));
  });

  it('does not remember a key read while it was being revoked', async () => {
    const t = table();
    const keys = cachedApiKeys(t);
    await keys.create(record('c'));
    t.hold();
    const lookup = keys.findByHash('c'); // reads the key, then waits
    await keys.delete('c');
    t.release();
    expect(await lookup).toEqual(record('c')); // it was live when read
    expect(await keys.findByHash('c')).toBeUndefined(); // but not remembered
  });

  it('asks the table again after a minute, and keeps at most its bound', async () => {
    let clock = 0;
    const t = table();
    const keys = cachedApiKeys(t, () => clock);
    for (let i = 0; i <= CACHED_KEYS; i++) await t.create(record(`k${i}`));
    await keys.findByHash('k0');
    clock = CACHED_KEY_MS - 1;
    await keys.findByHash('k0');
    expect(t.reads).toBe(1);
    clock = CACHED_KEY_MS;
    await keys.findByHash('k0');
    expect(t.reads).toBe(2);
    // k0 is the oldest remembered: one more key than the bound pushes it out.
    for (let i = 1; i <= CACHED_KEYS; i++) await keys.findByHash(`k${i}`);
    const reads = t.reads;
    await keys.findByHash('k0');
    expect(t.reads).toBe(reads + 1);
  });
});
