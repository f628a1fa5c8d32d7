import type { JobType } from '../domain/job.ts';
import type { ProjectKind } from '../domain/project.ts';
import { anomalyKind } from './anomaly.ts';
import { classificationKind } from './classification.ts';
import type { JobRunner, ProjectKindModule } from './kind.ts';
import { sensorsKind } from './sensors.ts';
import { objectDetectionKind } from './object-detection.ts';

/** Every project kind: a new kind is one module beside anomaly.ts and one line here (see README, Layout). */
export const KINDS: Record<ProjectKind, ProjectKindModule> = {
  anomaly: anomalyKind,
  classification: classificationKind,
  sensors: sensorsKind,
  'object-detection': objectDetectionKind,
};

/** How a job of this type runs for a project of this kind. */
export const jobRunner = (kind: ProjectKind, type: JobType): JobRunner => KINDS[kind].jobs[type];
