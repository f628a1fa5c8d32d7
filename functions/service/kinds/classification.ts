import { OnnxClassifier } from '../../engine/classification/onnx-classifier.ts';
import { runInboxClassification } from '../classification/classification-service.ts';
import { runClassifierTraining } from '../classification/classifier-training-service.ts';
import { inboxObjectOf } from '../domain/job.ts';
import { noSuchJob, type ProjectKindModule } from './kind.ts';

/**
 * Image classification with an ONNX model: uploaded with its spec, or trained from labelled folders on the backbone's
 * pooled features (engine in functions/engine/classification/).
 */
export const classificationKind = {
  jobs: {
    train: (s, { job, project, report }) => runClassifierTraining(s, job, project, report),
    detect: (s, { job, project, inbox }) => runInboxClassification(s, job, project, inbox ?? inboxObjectOf(job)),
    // Reviews teach anomaly models (memory bank, threshold); a classifier learns from retraining on labelled folders.
    'update-bank': noSuchJob,
    recalibrate: noSuchJob,
  },
  uploadedModels: {
    kind: 'classification',
    check: async (bytes, spec) => {
      // One thread: the check runs beside the API's other requests, and a classifier this size needs no more.
      const classifier = await OnnxClassifier.load(bytes, spec, { threads: 1 });
      await classifier.release();
      return classifier.check.model;
    },
  },
} satisfies ProjectKindModule;
