import type { StoredUploadedModel } from '../domain/uploaded-model.ts';

/** ONNX model versions with their specs (classification; object detection next), beside the PatchCore ones. */
export interface UploadedModelStore {
  /** Records a version once (a conditional write): a repeated write of the same version keeps the first. */
  create(model: StoredUploadedModel): Promise<StoredUploadedModel>;
  get(projectId: string, version: number): Promise<StoredUploadedModel | undefined>;
  /** Newest version first. */
  list(projectId: string): Promise<StoredUploadedModel[]>;
}
