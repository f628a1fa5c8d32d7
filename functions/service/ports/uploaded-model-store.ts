import type { StoredUploadedModel } from '../domain/uploaded-model.ts';

/** ONNX model versions with their specs (classification; object detection next), beside the PatchCore ones. */
export interface UploadedModelStore {
  /** Records a version once (a conditional write): a repeated write of the same version keeps the first. */
  create(model: StoredUploadedModel): Promise<StoredUploadedModel>;
  get(projectId: string, version: number): Promise<StoredUploadedModel | undefined>;
  /**
   * Takes a staged upload (its object key) for one registration, until `until` (a conditional write): of parallel
   * calls exactly one wins; a claim past its time (its registration died) can be taken again.
   */
  claimStaged(projectId: string, key: string, until: Date): Promise<boolean>;
  /** Frees the claim once the registration has ended (its staged object deleted). */
  releaseStaged(projectId: string, key: string): Promise<void>;
  /** Newest version first. */
  list(projectId: string): Promise<StoredUploadedModel[]>;
}
