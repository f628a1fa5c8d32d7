import type { InboxObject, Job, JobType } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import type { ProgressReporter } from '../training/training-service.ts';
import type { UploadedModelKind } from '../domain/uploaded-model.ts';
import type { UploadedModelSupport } from '../uploaded-models/uploaded-model-support.ts';

/** One job to run, with what is already known about it: its project read once, and its inbox object when parsed. */
export interface JobRun {
  job: Job;
  project: ProjectItem;
  /** Reports progress; throws once the job is no longer this worker's (see run-job.ts). */
  report: ProgressReporter;
  /** The drop-folder object of a detect job, when the intake has parsed its key already. */
  inbox?: InboxObject;
}

/** Runs a job of one kind to its output (what the job records on success); errors are classified by run-job.ts. */
export type JobRunner = (s: Services, run: JobRun) => Promise<Record<string, unknown>>;

/**
 * What a project kind brings to the service: a runner for every job type (a `Record`, so a new job type does not
 * compile until each kind says how it runs it). Its engine sits under functions/engine/, its routes under
 * functions/api/routes/; nothing of another kind changes when one is added.
 */
export interface ProjectKindModule {
  jobs: Record<JobType, JobRunner>;
  /** Kinds whose model versions are uploaded ONNX files with a spec (functions/service/uploaded-models/). */
  uploadedModels?: { [K in UploadedModelKind]: UploadedModelSupport<K> }[UploadedModelKind];
  /** Kinds this stack cannot train: why, answered with 501 to POST /train. */
  trainingUnavailable?: string;
}

/** The runner of a job type a kind does not have: the job ends at once (the API refuses such requests before this). */
export const noSuchJob: JobRunner = async (_s, { job, project }) => {
  throw new ServiceError('WRONG_PROJECT_KIND', `a project of kind ${project.kind} has no ${job.type} jobs`, {
    projectId: project.id,
    kind: project.kind,
    jobType: job.type,
  });
};
