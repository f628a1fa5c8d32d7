import type { OnnxModelSummary } from '../../engine/onnx/inspect-model.ts';
import type { UploadedModelKind, UploadedModelVersion } from '../domain/uploaded-model.ts';

type SpecOf<K extends UploadedModelKind> = Extract<UploadedModelVersion, { kind: K }>['spec'];

/**
 * What a project kind that serves uploaded ONNX models brings (classification now; object detection adds its own):
 * the check that runs the file once against its spec. The spec's schema is UPLOADED_MODEL_SPECS[kind].
 */
export interface UploadedModelSupport<K extends UploadedModelKind = UploadedModelKind> {
  kind: K;
  /** Loads the model with its spec and runs it once; throws the engine's UploadedModelError on any mismatch. */
  check(bytes: Uint8Array, spec: SpecOf<K>): Promise<OnnxModelSummary>;
}
