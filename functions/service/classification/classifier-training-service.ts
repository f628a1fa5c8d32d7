import { readFile } from 'node:fs/promises';
import { prepareBackbone } from '../../engine/backbone/obtain-backbone.ts';
import { trainClassifier } from '../../engine/classification/train-classifier.ts';
import type { LabelledSource } from '../../engine/dataset/labelled-folders.ts';
import { inspectOnnxModel } from '../../engine/onnx/inspect-model.ts';
import type { Job } from '../domain/job.ts';
import { ServiceError } from '../errors.ts';
import { datasetKey } from '../object-keys.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import type { ProgressReporter } from '../training/training-service.ts';
import { storeModelVersion } from '../uploaded-models/uploaded-models-service.ts';

/** The head a classifier trained here answers in (its spec names it; the compatibility route's field). */
export const TRAINED_HEAD = 'class';

/**
 * The project's images with their class: the first folder under datasets/{projectId}/ (put there by any S3 client,
 * e.g. `aws s3 sync ./labelled s3://BUCKET/datasets/PROJECT/`). Images at the top have no class and are not used.
 */
export function labelledImages(s: Services, projectId: string, keys: string[]): LabelledSource[] {
  const prefix = datasetKey(projectId, '');
  return keys
    .map((key) => ({ key, parts: key.slice(prefix.length).split('/') }))
    .filter(({ parts }) => parts.length >= 2)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ key, parts }) => ({
      label: parts[0],
      image: {
        name: parts.join('/'),
        read: async () => {
          const bytes = await s.objects.get(key);
          if (!bytes) throw new Error(`training image ${key} is gone`);
          return bytes;
        },
      },
    }));
}

/**
 * The worker's half of training a classification project: labelled images from its dataset folders, the engine's
 * cross-validated logistic regression on the backbone's features, stored as the version the job took (a retry
 * rewrites the same version) and activated, with its cross-validation figures.
 */
export async function runClassifierTraining(
  s: Services,
  job: Job,
  project: ProjectItem,
  report: ProgressReporter,
): Promise<Record<string, unknown>> {
  const images = labelledImages(
    s,
    project.id,
    (await s.images.all(project.id)).map((i) => i.key),
  );
  const classes = new Set(images.map((i) => i.label));
  if (classes.size < 2)
    throw new ServiceError(
      'NOT_ENOUGH_IMAGES',
      `training a classifier needs images of at least 2 classes, each in its own folder under datasets/${project.id}/ (e.g. datasets/${project.id}/crack/1.jpg); found ${classes.size} class folder(s)`,
      { classes: [...classes] },
    );
  const backbone = await prepareBackbone();
  const trained = await trainClassifier(images, {
    backbone: {
      bytes: await readFile(backbone.backbonePath),
      manifest: backbone.manifest,
      fileName: backbone.manifest.file,
    },
    headName: TRAINED_HEAD,
    onProgress: (p) => report(p.stage, p.done, p.total),
  });
  const stored = await storeModelVersion(s, project as ProjectItem & { kind: 'classification' }, {
    bytes: trained.onnx,
    spec: trained.spec,
    summary: inspectOnnxModel(trained.onnx),
    source: 'training',
    jobId: job.id,
    evaluation: trained.evaluation,
    version: Number(job.input.modelVersion),
  });
  return {
    modelVersion: stored.version,
    images: trained.evaluation.images,
    accuracy: trained.evaluation.accuracy,
    macro_f1: trained.evaluation.macro_f1,
    skipped: trained.skipped.length,
    trainingMs: trained.timingsMs.total,
  };
}
