import { ObjectDetector } from '../../engine/object-detection/object-detector.ts';
import { inspectOnnxModel } from '../../engine/onnx/inspect-model.ts';
import { inboxObjectOf } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { runInboxObjectDetection } from '../object-detection/object-detection-service.ts';
import { noSuchJob, type ProjectKindModule } from './kind.ts';

/** Why POST /train answers 501 for this kind (README, "Object detectors (YOLO)"). */
export const OBJECT_DETECTION_TRAINING_UNAVAILABLE =
  'training a YOLO detector needs a deep-learning trainer (PyTorch with a GPU, e.g. Ultralytics), which this stack does not have; train it elsewhere, export it to ONNX and upload it with its spec (POST /api/v1/projects/{projectId}/models/upload)';

/** Object detection with an uploaded YOLO ONNX export and its spec (engine in functions/engine/object-detection/). */
export const objectDetectionKind = {
  trainingUnavailable: OBJECT_DETECTION_TRAINING_UNAVAILABLE,
  jobs: {
    // requestTraining refuses first; a train job that got here anyway (written by hand) fails with the same reason.
    train: async () => {
      throw new ServiceError('NOT_IMPLEMENTED', OBJECT_DETECTION_TRAINING_UNAVAILABLE);
    },
    detect: (s, { job, project, inbox }) => runInboxObjectDetection(s, job, project, inbox ?? inboxObjectOf(job)),
    'update-bank': noSuchJob,
    recalibrate: noSuchJob,
  },
  uploadedModels: {
    kind: 'object-detection',
    check: async (bytes, spec) => {
      // The header first: not ONNX, TFLite or too old an opset is a 415 before onnxruntime sees the bytes.
      const summary = inspectOnnxModel(bytes);
      // One thread: the check runs beside the API's other requests.
      const detector = await ObjectDetector.load(bytes, spec, { session: { threads: 1 } });
      await detector.release();
      return summary;
    },
  },
} satisfies ProjectKindModule;
