import type { Job } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import type { ProgressReporter } from '../training/training-service.ts';

export async function runClassifierTraining(
  _s: Services,
  _job: Job,
  project: ProjectItem,
  _report: ProgressReporter,
): Promise<Record<string, unknown>> {
  throw new ServiceError(
    'WRONG_PROJECT_KIND',
    `project ${project.id}: training classifiers in the service is not built yet`,
  );
}
