import { inboxObjectOf } from '../domain/job.ts';
import { runInboxDetection } from '../detection/detection-service.ts';
import { runBankUpdate, runRecalibration } from '../reviews/model-updates.ts';
import { runTraining } from '../training/training-service.ts';
import type { ProjectKindModule } from './kind.ts';

/** Image anomaly detection (PatchCore, functions/engine): train on normal images, detect drop-folder images. */
export const anomalyKind = {
  jobs: {
    train: (s, { job, project, report }) => runTraining(s, job, project, report),
    detect: (s, { job, project, inbox }) => runInboxDetection(s, job, project, inbox ?? inboxObjectOf(job)),
    'update-bank': (s, { job, project, report }) => runBankUpdate(s, job, project, report),
    recalibrate: (s, { job, project, report }) => runRecalibration(s, job, project, report),
  },
} satisfies ProjectKindModule;
