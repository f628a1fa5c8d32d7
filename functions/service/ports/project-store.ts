import type { Project } from '../domain/project.ts';
import type { Page } from './page.ts';

/** A project as stored: the public fields plus its webhook secret. */
export interface ProjectItem extends Project {
  webhookSecret: string;
}

/** Who holds a project's training slot, and since when. */
export interface TrainingClaim {
  jobId: string;
  claimedAt: string;
}

/** Projects, their training slot and model counter, and the removal of what a project owns in the store. */
export interface ProjectStore {
  create(project: ProjectItem): Promise<void>;
  /** The project; undefined when there is none or it is being deleted. */
  get(id: string): Promise<ProjectItem | undefined>;
  /** The project even while it is being deleted (for the deletion, which may be retried). */
  getForDeletion(id: string): Promise<ProjectItem | undefined>;
  /** Marks the project as being deleted: from then on nobody finds it and no job can commit to it. False when it does not exist. */
  markDeleting(id: string): Promise<boolean>;
  /** Projects whose deletion began but did not finish (the process died). */
  listDeleting(): Promise<ProjectItem[]>;
  /** Takes the project's one training slot for a job, when free or held by `replacing`; of parallel calls exactly one wins. */
  claimTraining(id: string, jobId: string, replacing?: string): Promise<boolean>;
  /** Frees the training slot if this job holds it. */
  releaseTraining(id: string, jobId: string): Promise<void>;
  /** Who holds the training slot now, if anyone. */
  trainingClaim(id: string): Promise<TrainingClaim | undefined>;
  /** Every project, newest first. */
  list(limit: number, cursor?: string): Promise<Page<ProjectItem>>;
  /** Projects whose owner is this subject, newest first. */
  listOwnedBy(owner: string, limit: number, cursor?: string): Promise<Page<ProjectItem>>;
  /** These projects (a scoped key's), newest first; ids that no longer exist are left out. */
  listIds(ids: string[], limit: number, cursor?: string): Promise<Page<ProjectItem>>;
  /** Sets fields; undefined leaves a field as it is, null removes it. Undefined when the project is gone or being deleted. */
  update(id: string, fields: Partial<Omit<ProjectItem, 'id' | 'createdAt'>>): Promise<ProjectItem | undefined>;
  /** Atomic counter change (image count); nothing when the project is gone. */
  addToCount(id: string, field: 'imageCount', delta: number): Promise<void>;
  /** Takes the next model version number (atomic); undefined when the project is gone or being deleted. */
  nextModelVersion(id: string): Promise<number | undefined>;
  /**
   * Removes everything stored under the project but the project itself: its images, model versions, results and
   * webhook deliveries. Returns how many records went.
   */
  deleteContents(id: string): Promise<number>;
  /** Removes the project itself (last, so that an interrupted deletion can be finished). */
  delete(id: string): Promise<void>;
}
