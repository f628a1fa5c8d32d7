import { createHash } from 'node:crypto';
import { classifierSpecSchema } from '../../engine/classification/classifier-spec.ts';
import { OnnxClassifier } from '../../engine/classification/onnx-classifier.ts';
import { FaultlineError } from '../../engine/errors.ts';
import type { StoredUploadedModel } from '../domain/uploaded-model.ts';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import { UPLOADED_MODEL_FILES } from '../uploaded-models/uploaded-models-service.ts';

/** How long an evicted classifier stays usable by requests already holding it. */
const RELEASE_DELAY_MS = 60_000;

/**
 * Loaded classifiers, most recently used kept (FAULTLINE_MODELS_IN_MEMORY of them), one cache per `Services` (so the
 * API, each worker and each test runtime have their own). The ONNX file is read from the object store and its digest
 * checked against the version's record before it is loaded: a damaged or replaced file is an error, never served.
 */
class ClassifierCache {
  private readonly loaded = new Map<string, Promise<OnnxClassifier>>();

  constructor(private readonly s: Services) {}

  get(model: StoredUploadedModel): Promise<OnnxClassifier> {
    const id = `${model.projectId}/v${model.version}/${model.file.sha256}`;
    let entry = this.loaded.get(id);
    if (entry) {
      this.loaded.delete(id);
      this.loaded.set(id, entry);
      return entry;
    }
    entry = this.load(model);
    this.loaded.set(id, entry);
    entry.catch(() => this.loaded.delete(id));
    while (this.loaded.size > this.s.config.FAULTLINE_MODELS_IN_MEMORY) {
      const [oldest, classifier] = this.loaded.entries().next().value!;
      this.loaded.delete(oldest);
      setTimeout(() => classifier.then((c) => c.release()).catch(() => {}), RELEASE_DELAY_MS).unref();
    }
    return entry;
  }

  has(model: StoredUploadedModel): boolean {
    return this.loaded.has(`${model.projectId}/v${model.version}/${model.file.sha256}`);
  }

  private async load(model: StoredUploadedModel): Promise<OnnxClassifier> {
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
      const classifier = await OnnxClassifier.load(bytes, classifierSpecSchema.parse(model.spec));
      this.s.log({
        msg: 'classifier loaded',
        projectId: model.projectId,
        version: model.version,
        ms: Math.round(performance.now() - started),
      });
      return classifier;
    } catch (error) {
      if (error instanceof FaultlineError) throw unusable(error.message);
      throw error;
    }
  }
}

const caches = new WeakMap<Services, ClassifierCache>();

/** The classifier of a stored version, loaded once per `Services`. */
export function loadClassifier(s: Services, model: StoredUploadedModel): Promise<OnnxClassifier> {
  let cache = caches.get(s);
  if (!cache) caches.set(s, (cache = new ClassifierCache(s)));
  return cache.get(model);
}

/** Whether this version is in memory now (for the health route). */
export const classifierLoaded = (s: Services, model: StoredUploadedModel): boolean =>
  caches.get(s)?.has(model) ?? false;
