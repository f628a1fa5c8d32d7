import { z } from 'zod';
import { DATASET_TYPES, MAX_EVALUATION_IMAGES, readEvaluationSet } from '../../service/evaluation/evaluation-set.ts';
import { importLookoutManifest, MAX_IMPORT_LINES } from '../../service/evaluation/lookout-manifest-import.ts';
import { ServiceError } from '../../service/errors.ts';
import { requireProject } from '../../service/projects/projects-service.ts';
import { defineRoute } from '../http/route.ts';
import { projectParams } from './common.ts';

/**
 * Importing a Lookout for Vision dataset (its Ground Truth manifest and images) into a project: normal training
 * images become the project's training images, labelled anomalies (and test images) its evaluation set.
 */
const tags = ['Training data'];

const datasetType = z.enum(DATASET_TYPES).default('train').meta({
  description:
    'train: normal images become training images, anomalies join the evaluation set; test: every image joins the evaluation set',
});

const outcomeSchema = z
  .object({
    datasetType: z.enum(DATASET_TYPES),
    lines: z.number().int(),
    trainingImages: z.number().int().meta({ description: 'Normal images added to the training images' }),
    evaluation: z.object({ normal: z.number().int(), anomalous: z.number().int(), withMask: z.number().int() }),
    evaluationSetImages: z.number().int(),
    imageCount: z.number().int(),
  })
  .meta({ id: 'LookoutImport' });

const description = `A SageMaker Ground Truth JSON Lines manifest as Lookout for Vision wrote it: source-ref, anomaly-label (0 normal, 1 anomaly) with anomaly-label-metadata.class-name, and optionally anomaly-mask-ref with anomaly-mask-ref-metadata.internal-color-map. Every line is checked first (JSON, labels, references, images, masks against their colour map, each mask the size of its image); any bad line refuses the whole import with a 400 naming every bad line (details.lines: line number and reason) and nothing is stored. An import replaces the evaluation images of earlier imports of the same dataset type; the evaluation set holds at most ${MAX_EVALUATION_IMAGES} images. The import runs within the request: a manifest of more than ${MAX_IMPORT_LINES} lines is refused (413 TOO_MANY_FILES) before any file is read. The next training scores it: the model reports image AUROC, F1, precision, recall, pixel AUROC and mask IoU.`;

export const lookoutDatasetRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/lookout-datasets/bucket',
    operationId: 'importLookoutManifestFromBucket',
    summary: 'Import a Lookout for Vision dataset manifest from the bucket',
    description: `${description} The manifest and its images lie under imports/{projectId}/: a reference s3://OTHER-BUCKET/key is read at imports/{projectId}/OTHER-BUCKET/key (what \`aws s3 sync s3://OTHER-BUCKET s3://FAULTLINE-BUCKET/imports/{projectId}/OTHER-BUCKET\` gives), one into Faultline's bucket must lie under imports/{projectId}/.`,
    tags,
    params: projectParams,
    body: {
      json: z
        .object({
          manifest: z
            .string()
            .min(1)
            .max(1024)
            .meta({ example: 's3://my-lookout-bucket/datasets/train/output.manifest' }),
          datasetType,
        })
        .meta({ id: 'LookoutBucketImport' }),
    },
    success: { status: 200, description: 'What was imported', schema: outcomeSchema },
    errors: [404, 413],
    handle: async ({ params, body }, s) => ({
      status: 200,
      body: await importLookoutManifest(
        s,
        params.projectId,
        { kind: 'bucket', manifestRef: body.manifest },
        body.datasetType,
      ),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/lookout-datasets/archive',
    operationId: 'importLookoutManifestFromArchive',
    summary: 'Import a Lookout for Vision dataset uploaded as a ZIP (manifest, images and masks)',
    description: `${description} The ZIP holds the manifest (the one entry ending in .manifest or .jsonl, or the one named in the field "manifest") and the files its lines name: s3://bucket/key is found at key or bucket/key in the archive, a relative reference next to the manifest. The ZIP is read streamed within the archive limits.`,
    tags,
    params: projectParams,
    body: {
      multipart: {
        fields: z.object({
          datasetType,
          manifest: z.string().min(1).max(1024).optional().meta({ description: 'Path of the manifest in the ZIP' }),
        }),
        files: [{ name: 'archive', description: 'The ZIP', required: true, multiple: false }],
      },
    },
    success: { status: 200, description: 'What was imported', schema: outcomeSchema },
    errors: [404, 413, 422],
    handle: async ({ params, body: fields, files }, s) => {
      const archive = files.archive?.[0];
      if (!archive) throw new ServiceError('VALIDATION_FAILED', 'no file: send the ZIP in the field "archive"');
      return {
        status: 200,
        body: await importLookoutManifest(
          s,
          params.projectId,
          { kind: 'zip', archive: archive.content, manifestPath: fields.manifest },
          fields.datasetType,
        ),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/evaluation-set',
    operationId: 'getEvaluationSet',
    summary: 'The labelled evaluation set the next training scores',
    tags,
    params: projectParams,
    success: {
      status: 200,
      description: 'Its images by dataset type and label',
      schema: z
        .object({
          images: z.number().int(),
          updatedAt: z.iso.datetime(),
          items: z.array(
            z.object({
              line: z.number().int(),
              sourceRef: z.string(),
              dataset: z.enum(DATASET_TYPES),
              anomalous: z.boolean(),
              defect: z.string(),
              hasMask: z.boolean(),
            }),
          ),
        })
        .meta({ id: 'EvaluationSet' }),
    },
    errors: [404],
    handle: async ({ params }, s) => {
      await requireProject(s, params.projectId);
      const set = await readEvaluationSet(s, params.projectId);
      return {
        status: 200,
        body: {
          images: set.items.length,
          updatedAt: set.updatedAt,
          items: set.items.map((i) => ({
            line: i.line,
            sourceRef: i.sourceRef,
            dataset: i.dataset,
            anomalous: i.anomalous,
            defect: i.defect,
            hasMask: i.maskKey !== undefined,
          })),
        },
      };
    },
  }),
];
