import { ServiceError } from '../errors.ts';

/**
 * How long a model that failed to load is answered with that failure before its files are fetched again. Public
 * routes (/health, /api/v1/analyze/health) load the default model on demand: without this memory every anonymous
 * call would read the artifact from the object store again. Short, so that a repaired artifact heals by itself.
 */
export const FAILED_LOAD_REMEMBERED_MS = 30_000;

/** How long an evicted model stays usable by requests already holding it (a detection takes well under a second). */
const RELEASE_DELAY_MS = 60_000;

export interface Releasable {
  release(): Promise<void>;
}

/**
 * Models in memory by id, most recently used kept (`capacity` of them). Parallel requests for one id share one
 * load; a load that fails because the model itself is unusable (a ServiceError) is remembered for
 * FAILED_LOAD_REMEMBERED_MS (per id, so another model version, e.g. one activated to replace it, loads at once). A
 * passing fault of the store (a network error, throttling) is not remembered: the next request tries again rather
 * than every detection of the project failing for the window.
 */
export class LoadedModels<M extends Releasable> {
  private readonly loaded = new Map<string, Promise<M>>();
  private readonly failed = new Map<string, { error: unknown; until: number }>();

  constructor(private readonly capacity: () => number) {}

  get(id: string, load: () => Promise<M>): Promise<M> {
    const failure = this.failed.get(id);
    if (failure) {
      if (Date.now() < failure.until) return Promise.reject(failure.error);
      this.failed.delete(id);
    }
    let entry = this.loaded.get(id);
    if (entry) {
      this.loaded.delete(id); // re-insert: most recently used last
      this.loaded.set(id, entry);
      return entry;
    }
    entry = load();
    const current = entry;
    this.loaded.set(id, current);
    current.catch((error: unknown) => {
      if (this.loaded.get(id) !== current) return; // forgotten meanwhile (project deleted): nothing to remember
      this.loaded.delete(id);
      if (error instanceof ServiceError) this.rememberFailure(id, error);
    });
    while (this.loaded.size > this.capacity()) {
      const [oldest, evicted] = this.loaded.entries().next().value!;
      this.loaded.delete(oldest);
      // Released later, not now: a request that took this model a moment ago may still be using its sessions.
      setTimeout(() => evicted.then((m) => m.release()).catch(() => {}), RELEASE_DELAY_MS).unref();
    }
    return current;
  }

  /** Is this model in memory (or being loaded) now? */
  has(id: string): boolean {
    return this.loaded.has(id);
  }

  /** Drops (and releases) the models and remembered failures whose id passes the test. */
  async forget(test: (id: string) => boolean): Promise<void> {
    for (const id of [...this.failed.keys()]) if (test(id)) this.failed.delete(id);
    for (const [id, model] of [...this.loaded]) {
      if (!test(id)) continue;
      this.loaded.delete(id);
      await model.then((m) => m.release()).catch(() => {});
    }
  }

  private rememberFailure(id: string, error: unknown): void {
    const now = Date.now();
    // Expired failures go as new ones come, so the map holds only the last window's.
    for (const [other, f] of this.failed) if (f.until <= now) this.failed.delete(other);
    this.failed.set(id, { error, until: now + FAILED_LOAD_REMEMBERED_MS });
  }
}
