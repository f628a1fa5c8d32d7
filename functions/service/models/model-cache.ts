import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CELL_TABLE_FILE } from '../../engine/artifact/artifact-manifest.ts';
import { MANIFEST_FILE } from '../../engine/artifact/model-artifact.ts';
import { Detector } from '../../engine/detection/detector.ts';
import { FaultlineError } from '../../engine/errors.ts';
import { ServiceError } from '../errors.ts';
import type { Log } from '../log.ts';
import { modelPrefix } from '../object-keys.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { LoadedModels } from './loaded-models.ts';

export const ARTIFACT_FILES = [MANIFEST_FILE, 'bank.f32', 'bank-sources.u32', CELL_TABLE_FILE];

/** Files that models stored before them lack: a missing one is skipped (the manifest says whether it is needed). */
export const OPTIONAL_ARTIFACT_FILES: ReadonlySet<string> = new Set([CELL_TABLE_FILE]);

/** The artifact files a stored model has: an older model lacks the optional ones (no download link to nothing). */
export async function storedArtifactFiles(objects: ObjectStore, prefix: string): Promise<string[]> {
  const present = await Promise.all(
    ARTIFACT_FILES.map(
      async (name) => !OPTIONAL_ARTIFACT_FILES.has(name) || (await objects.head(`${prefix}${name}`)) !== undefined,
    ),
  );
  return ARTIFACT_FILES.filter((_, i) => present[i]);
}

/**
 * Loaded models, most recently used kept: the artifact is copied from the object store to a local folder once (in
 * Lambda, /tmp survives between invocations of a warm container) and loaded into memory, sessions and all. A model
 * that fails to load is answered with its failure for a while (LoadedModels) rather than fetched on every call.
 */
export class ModelCache {
  private readonly loaded: LoadedModels<Detector>;

  constructor(
    private readonly objects: ObjectStore,
    private readonly dir: string,
    capacity: number,
    private readonly log: Log,
  ) {
    this.loaded = new LoadedModels(() => capacity);
  }

  detector(projectId: string, version: number): Promise<Detector> {
    return this.loaded.get(`${projectId}/v${version}`, () => this.load(projectId, version));
  }

  /** Is this model in memory now (for /health)? */
  has(projectId: string, version: number): boolean {
    return this.loaded.has(`${projectId}/v${version}`);
  }

  async evictProject(projectId: string): Promise<void> {
    await this.loaded.forget((id) => id.startsWith(`${projectId}/`));
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
        if (!bytes && OPTIONAL_ARTIFACT_FILES.has(file)) continue;
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
      // Not kept: a request after the failure window fetches it again, so a repaired artifact (or a bad copy here)
      // heals by itself.
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
