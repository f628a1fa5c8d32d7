import { classifierSpecSchema } from '../../engine/classification/classifier-spec.ts';
import { OnnxClassifier } from '../../engine/classification/onnx-classifier.ts';
import type { StoredUploadedModel } from '../domain/uploaded-model.ts';
import type { Services } from '../services.ts';
import { loadedModelCache, type ModelLoader } from '../uploaded-models/loaded-model-cache.ts';

const loadOnnxClassifier: ModelLoader<OnnxClassifier> = (bytes, model) =>
  OnnxClassifier.load(bytes, classifierSpecSchema.parse(model.spec));

/** The classifier of a stored version, loaded once per `Services` (uploaded-models/loaded-model-cache.ts). */
export function loadClassifier(s: Services, model: StoredUploadedModel): Promise<OnnxClassifier> {
  return loadedModelCache(s, 'classifier', loadOnnxClassifier).get(model);
}
