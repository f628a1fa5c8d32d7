import type { Page } from './page.ts';

/** A normal (training) image of a project, registered once its object is in the datasets/ folder and decodes. */
export interface DatasetImage {
  key: string;
  name: string;
  size: number;
  width: number;
  height: number;
  format: string;
  uploadedAt: string;
}

export interface ImageStore {
  /** Registers the image; false when it was already registered (a repeated S3 event), so counts stay exact. */
  add(projectId: string, image: DatasetImage): Promise<boolean>;
  has(projectId: string, key: string): Promise<boolean>;
  /** False when it was not registered. */
  remove(projectId: string, key: string): Promise<boolean>;
  list(projectId: string, limit: number, cursor?: string): Promise<Page<DatasetImage>>;
  all(projectId: string): Promise<DatasetImage[]>;
}
