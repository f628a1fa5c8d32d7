import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_FILE } from '../../engine/artifact/model-artifact.ts';
import { Detector } from '../../engine/detection/detector.ts';
import { FaultlineError } from '../../engine/errors.ts';
import { ServiceError } from '../errors.ts';
import type { Log } from '../log.ts';
import { modelPrefix } from '../object-keys.ts';
import type { ObjectStore } from '../ports/object-store.ts';

export const ARTIFACT_FILES = [MANIFEST_FILE, 'bank.f32', 'bank-sources.u32'];

/** How long an evicted model stays usable by requests already holding it (a detection takes well under a second). */
const RELEASE_DELAY_MS = 60_000;

/**
 * Loaded models, most recently used kept: the artifact is copied from the object store to a local folder once (in
 * Lambda, /tmp survives between invocations of a warm container) and loaded into memory, sessions and all.
 */
export class ModelCache {
  private readonly loaded = new Map<string, Promise<Detector>>();

  constructor(
    private readonly objects: ObjectStore,
    private readonly dir: string,
    private readonly capacity: number,
    private readonly log: Log,
  ) {}

  async detector(projectId: string, version: number): Promise<Detector> {
    const id = `${projectId}/v${version}`;
    let entry = this.loaded.get(id);
    if (entry) {
      this.loaded.delete(id); // re-insert: most recently used last
      this.loaded.set(id, entry);
      return entry;
    }
    entry = this.load(projectId, version);
    this.loaded.set(id, entry);
    entry.catch(() => this.loaded.delete(id));
    while (this.loaded.size > this.capacity) {
      const [oldest, detector] = this.loaded.entries().next().value!;
      this.loaded.delete(oldest);
      // Released later, not now: a request that took this detector a moment ago may still be using its sessions.
      setTimeout(() => detector.then((d) => d.release()).catch(() => {}), RELEASE_DELAY_MS).unref();
    }
    return entry;
  }

  /** Is this model in memory now (for /health)? */
  has(projectId: string, version: number): boolean {
    return this.loaded.has(`${projectId}/v${version}`);
  }

  async evictProject(projectId: string): Promise<void> {
    for (const [id, detector] of [...this.loaded]) {
      if (!id.startsWith(`${projectId}/`)) continue;
      this.loaded.delete(id);
      await detector.then((d) => d.release()).catch(() => {});
    }
    await rm(join(this.dir, projectId), { recursive: true, force: true });
  }

  private async load(projectId: string, version: number): Promise<Detector> {
    const started = performance.now();
    const folder = join(this.dir, projectId, `v${version}`);
    if (!existsSync(join(folder, MANIFEST_FILE))) {
      const staging = `${folder}.${process.pid}.${Date.now()}.partial`;
      await mkdir(staging, { recursive: true });
      for (const file of ARTIFACT_FILES) {
        const bytes = await this.objects.get(`${modelPrefix(projectId, version)}${file}`);
        if (!bytes) throw unusable(projectId, version, `${file} is missing from the object store`);
        await writeFile(join(staging, file), bytes);
      }
      await rm(folder, { recursive: true, force: true });
      await rename(staging, folder);
    }
    let detector: Detector;
    try {
      detector = await Detector.load(folder);
    } catch (error) {
      if (!(error instanceof FaultlineError) || !error.code.startsWith('ARTIFACT_')) throw error;
      // Not kept: the next request fetches it again, so a repaired artifact (or a bad copy here) heals by itself.
      await rm(folder, { recursive: true, force: true });
      this.log({ level: 'error', msg: 'model artifact unusable', projectId, version, code: error.code, reason: error.message });
      throw unusable(projectId, version, error.code === 'ARTIFACT_INCOMPATIBLE' ? 'it was made by another version or backbone' : 'its files fail their integrity checks');
    }
    this.log({ msg: 'model loaded', projectId, version, ms: Math.round(performance.now() - started) });
    return detector;
  }
}

/** A model that cannot be loaded: the caller can train again or activate another version. */
const unusable = (projectId: string, version: number, why: string) =>
  new ServiceError('MODEL_UNUSABLE', `model version ${version} of project ${projectId} cannot be used: ${why}; train again or activate another version`, { projectId, version });
