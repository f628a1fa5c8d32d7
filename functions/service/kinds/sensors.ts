import { ServiceError } from '../errors.ts';
import type { JobRunner, ProjectKindModule } from './kind.ts';

/**
 * Sensor metrics (functions/engine/series): no training or detection jobs, their points are scored online by the
 * stream consumer (functions/service/sensors/). A job of an image type on such a project is refused, not run.
 */
const noImageJobs: JobRunner = async (_s, { job }) => {
  throw new ServiceError('CONFLICT', `a sensors project has no ${job.type} jobs: send its points to its metrics`, {
    jobType: job.type,
  });
};

export const sensorsKind = {
  jobs: { train: noImageJobs, detect: noImageJobs },
} satisfies ProjectKindModule;
