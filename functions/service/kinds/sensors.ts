import { noSuchJob, type ProjectKindModule } from './kind.ts';

/**
 * Sensor metrics (functions/engine/series): no image jobs, their points are scored online by the stream consumer
 * (functions/service/sensors/). A job of an image type on such a project is refused, not run.
 */
export const sensorsKind = {
  jobs: { train: noSuchJob, detect: noSuchJob, 'update-bank': noSuchJob, recalibrate: noSuchJob },
} satisfies ProjectKindModule;
