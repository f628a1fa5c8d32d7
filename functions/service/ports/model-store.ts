import type { ModelVersion } from '../domain/model-version.ts';

/** A model version as stored (which one is active is the project's `activeModelVersion`). */
export type StoredModel = Omit<ModelVersion, 'active'>;

export interface ModelStore {
  /** Records a trained version once: a retried job that trained again finds the first and keeps it. */
  create(model: StoredModel): Promise<StoredModel>;
  get(projectId: string, version: number): Promise<StoredModel | undefined>;
  /** Newest version first. */
  list(projectId: string): Promise<StoredModel[]>;
}
