import type { ApiKeyRecord, ApiKeyStore } from '../service/ports/api-key-store.ts';
import type { ProjectItem, ProjectStore } from '../service/ports/project-store.ts';

/**
 * The local runtime remembers what nearly every request reads, its API key and its project, so that a request costs
 * one table round trip less for each (a GetItem through the SDK and the DynamoDB stand-in is ~3 ms of CPU). That is
 * exact here because the runtime is its data folder's only writer (data-dir-lock.ts) and every write of those items
 * goes through these stores, which forget the item at once; the time limit only bounds the effect of a write made
 * past them. In AWS nothing is remembered: many Lambda containers write the same table (and the authorizer's results
 * cache TTL is 0), so a revocation or a project change takes effect on the next request everywhere.
 */

/** Items remembered at most per store: a bound on memory, however many the table holds. */
export const REMEMBERED_ITEMS = 1_000;
/** How long an item read is trusted without asking the table again. */
export const REMEMBERED_MS = 60_000;

/** Items read by key, remembered until written or for REMEMBERED_MS; absent ones are not remembered. */
export class Remembered<T> {
  private readonly items = new Map<string, { value: T; until: number }>();
  // Counts writes: a read under way while one happened does not remember what it read (it may predate the write).
  private writes = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async read(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = this.items.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    this.items.delete(key);
    const before = this.writes;
    const value = await load();
    if (value !== undefined && before === this.writes) {
      // Oldest first out (a Map keeps insertion order).
      if (this.items.size >= REMEMBERED_ITEMS) this.items.delete(this.items.keys().next().value!);
      this.items.set(key, { value, until: this.now() + REMEMBERED_MS });
    }
    return value;
  }

  /** Runs a write of this item, forgetting it before and after (a read that raced the write is not remembered). */
  async write<R>(key: string, write: () => Promise<R>): Promise<R> {
    this.writes++;
    this.items.delete(key);
    try {
      return await write();
    } finally {
      this.writes++;
      this.items.delete(key);
    }
  }
}

/**
 * API keys by hash. Keys not found are not remembered: random secrets must not fill the memory, and a key created a
 * moment ago must work at once.
 */
export function rememberedApiKeys(store: ApiKeyStore, now?: () => number): ApiKeyStore {
  const found = new Remembered<ApiKeyRecord>(now);
  return {
    create: (record) => store.create(record),
    list: () => store.list(),
    findByHash: (hash) => found.read(hash, () => store.findByHash(hash)),
    delete: (hash) => found.write(hash, () => store.delete(hash)),
  };
}

/**
 * Live projects by id (what get() answers); every write of a project forgets it. Each caller gets its own copy, so
 * that none can change what the next one reads.
 */
export function rememberedProjects(store: ProjectStore, now?: () => number): ProjectStore {
  const live = new Remembered<ProjectItem>(now);
  const writing =
    <A extends unknown[], R>(write: (id: string, ...rest: A) => Promise<R>) =>
    (id: string, ...rest: A) =>
      live.write(id, () => write(id, ...rest));
  return {
    get: async (id) => {
      const project = await live.read(id, () => store.get(id));
      return project && structuredClone(project);
    },
    create: (project) => live.write(project.id, () => store.create(project)),
    markDeleting: writing((id) => store.markDeleting(id)),
    claimTraining: writing((id, jobId: string, replacing?: string) => store.claimTraining(id, jobId, replacing)),
    releaseTraining: writing((id, jobId: string) => store.releaseTraining(id, jobId)),
    update: writing((id, fields: Parameters<ProjectStore['update']>[1]) => store.update(id, fields)),
    addToCount: writing((id, field: 'imageCount', delta: number) => store.addToCount(id, field, delta)),
    nextModelVersion: writing((id) => store.nextModelVersion(id)),
    delete: writing((id) => store.delete(id)),
    // Reads of other shapes, and the partition's other items, as they are.
    getForDeletion: (id) => store.getForDeletion(id),
    listDeleting: () => store.listDeleting(),
    trainingClaim: (id) => store.trainingClaim(id),
    list: (limit, cursor) => store.list(limit, cursor),
    listOwnedBy: (owner, limit, cursor) => store.listOwnedBy(owner, limit, cursor),
    listIds: (ids, limit, cursor) => store.listIds(ids, limit, cursor),
    deleteContents: (id) => store.deleteContents(id),
  };
}
