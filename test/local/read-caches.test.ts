import { describe, expect, it } from 'vitest';
import {
  REMEMBERED_ITEMS,
  REMEMBERED_MS,
  rememberedApiKeys,
  rememberedProjects,
} from '../../functions/local/read-caches.ts';
import type { ApiKeyRecord, ApiKeyStore } from '../../functions/service/ports/api-key-store.ts';
import type { ProjectItem, ProjectStore } from '../../functions/service/ports/project-store.ts';

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

describe('the local runtime remembers keys', () => {
  it('reads a key once, then answers from memory until it is revoked', async () => {
    const t = table();
    const keys = rememberedApiKeys(t);
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
    const keys = rememberedApiKeys(t);
    expect(await keys.findByHash('b')).toBeUndefined();
    await keys.create(record('b'));
    expect(await keys.findByHash('b')).toEqual(record('b'));
  });

  it('does not remember a key read while it was being revoked', async () => {
    const t = table();
    const keys = rememberedApiKeys(t);
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
    const keys = rememberedApiKeys(t, () => clock);
    for (let i = 0; i <= REMEMBERED_ITEMS; i++) await t.create(record(`k${i}`));
    await keys.findByHash('k0');
    clock = REMEMBERED_MS - 1;
    await keys.findByHash('k0');
    expect(t.reads).toBe(1);
    clock = REMEMBERED_MS;
    await keys.findByHash('k0');
    expect(t.reads).toBe(2);
    // k0 is the oldest remembered: one more key than the bound pushes it out.
    for (let i = 1; i <= REMEMBERED_ITEMS; i++) await keys.findByHash(`k${i}`);
    const reads = t.reads;
    await keys.findByHash('k0');
    expect(t.reads).toBe(reads + 1);
  });
});

/** The project table: live projects in memory, counting reads; only what the remembering store calls. */
function projectTable() {
  const items = new Map<string, ProjectItem & { deleting?: boolean }>();
  let held: Array<() => void> | undefined;
  const unused = () => Promise.reject(new Error('not used here'));
  const store = {
    reads: 0,
    hold: () => void (held = []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const resolve of waiting) resolve();
    },
    create: async (p: ProjectItem) => void items.set(p.id, { ...p }),
    async get(id: string) {
      store.reads++;
      const item = items.get(id);
      const found = item && !item.deleting ? structuredClone(item) : undefined;
      if (held) await new Promise<void>((resolve) => held!.push(resolve));
      return found;
    },
    async update(id: string, fields: Partial<ProjectItem>) {
      const item = items.get(id);
      if (!item || item.deleting) return undefined;
      Object.assign(item, fields);
      return structuredClone(item);
    },
    async markDeleting(id: string) {
      const item = items.get(id);
      if (item) item.deleting = true;
      return !!item;
    },
    async addToCount(id: string, _field: 'imageCount', delta: number) {
      const item = items.get(id);
      if (item) item.imageCount = (item.imageCount ?? 0) + delta;
    },
    getForDeletion: unused,
    listDeleting: unused,
    claimTraining: unused,
    releaseTraining: unused,
    trainingClaim: unused,
    list: unused,
    listOwnedBy: unused,
    listIds: unused,
    nextModelVersion: unused,
    deleteContents: unused,
    delete: unused,
  };
  return store;
}

const project = (id: string): ProjectItem =>
  ({ id, name: id, createdAt: '2026-12-02T00:00:00Z', imageCount: 0, webhookSecret: 's' }) as unknown as ProjectItem;

describe('the local runtime remembers projects', () => {
  it('reads a project once, and again after each write of it', async () => {
    const t = projectTable();
    const projects = rememberedProjects(t as unknown as ProjectStore);
    await projects.create(project('p'));
    await projects.get('p');
    await projects.get('p');
    expect(t.reads).toBe(1);
    await projects.update('p', { name: 'renamed' });
    expect((await projects.get('p'))?.name).toBe('renamed');
    await projects.addToCount('p', 'imageCount', 3);
    expect((await projects.get('p'))?.imageCount).toBe(3);
    expect(t.reads).toBe(3);
    await projects.markDeleting('p');
    expect(await projects.get('p')).toBeUndefined();
  });

  it('gives each caller its own copy', async () => {
    const projects = rememberedProjects(projectTable() as unknown as ProjectStore);
    await projects.create(project('q'));
    (await projects.get('q'))!.name = 'changed by a caller';
    expect((await projects.get('q'))?.name).toBe('q');
  });

  it('does not remember a project read while it was being written', async () => {
    const t = projectTable();
    const projects = rememberedProjects(t as unknown as ProjectStore);
    await projects.create(project('r'));
    t.hold();
    const reading = projects.get('r'); // reads the old name, then waits
    await projects.update('r', { name: 'new' });
    t.release();
    expect((await reading)?.name).toBe('r');
    expect((await projects.get('r'))?.name).toBe('new');
  });
});
