import { createHash } from 'node:crypto';
import { FaultlineError } from '../../engine/errors.ts';
import type { StoredUploadedModel } from '../domain/uploaded-model.ts';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import { UPLOADED_MODEL_FILES } from './uploaded-models-service.ts';
import { LoadedModels, type Releasable } from '../models/loaded-models.ts';

/** Loads a model from its checked bytes and its stored spec (the kind's engine: a classifier, a detector). */
export type ModelLoader<M> = (bytes: Uint8Array, model: StoredUploadedModel) => Promise<M>;

/**
 * Loaded uploaded models, most recently used kept (FAULTLINE_MODELS_IN_MEMORY of them), one cache per `Services` and
 * loader (so the API, each worker and each test runtime have their own). The ONNX file is read from the object store
 * and its digest checked against the version's record before it is loaded: a damaged or replaced file is an error,
 * never served. A failed load is remembered for a while (LoadedModels), not retried on every call.
 */
export class LoadedModelCache<M extends Releasable> {
  private readonly loaded: LoadedModels<M>;

  constructor(
    private readonly s: Services,
    private readonly what: string,
    private readonly loader: ModelLoader<M>,
  ) {
    this.loaded = new LoadedModels(() => s.config.FAULTLINE_MODELS_IN_MEMORY);
  }

  get(model: StoredUploadedModel): Promise<M> {
    // The digest is part of the id: a replaced file under the same version is another model.
    return this.loaded.get(`${model.projectId}/v${model.version}/${model.file.sha256}`, () => this.load(model));
  }

  private async load(model: StoredUploadedModel): Promise<M> {
    const started = performance.now();
    const unusable = (why: string) =>
      new ServiceError(
        'MODEL_UNUSABLE',
        `model version ${model.version} of project ${model.projectId} cannot be used: ${why}; upload it again or activate another version`,
        { projectId: model.projectId, version: model.version },
      );
    const bytes = await this.s.objects.get(`${model.artifactPrefix}${UPLOADED_MODEL_FILES.model}`);
    if (!bytes) throw unusable('its ONNX file is missing from the object store');
    if (createHash('sha256').update(bytes).digest('hex') !== model.file.sha256)
      throw unusable('its ONNX file does not match the digest recorded at upload');
    try {
      const loaded = await this.loader(bytes, model);
      this.s.log({
        msg: `${this.what} loaded`,
        projectId: model.projectId,
        version: model.version,
        ms: Math.round(performance.now() - started),
      });
      return loaded;
    } catch (error) {
      if (error instanceof FaultlineError) throw unusable(error.message);
      throw error;
    }
  }
}

const caches = new WeakMap<Services, Map<ModelLoader<Releasable>, LoadedModelCache<Releasable>>>();

/** The cache of this loader in these services, made on first use. */
export function loadedModelCache<M extends Releasable>(
  s: Services,
  what: string,
  loader: ModelLoader<M>,
): LoadedModelCache<M> {
  let byLoader = caches.get(s);
  if (!byLoader) caches.set(s, (byLoader = new Map()));
  let cache = byLoader.get(loader);
  if (!cache) byLoader.set(loader, (cache = new LoadedModelCache(s, what, loader)));
  return cache as LoadedModelCache<M>;
}
