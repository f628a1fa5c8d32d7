import { z } from 'zod';
import { detectImage } from '../../service/detection/detection-service.ts';
import { ServiceError } from '../../service/errors.ts';
import { addTrainingImage, trainNow } from '../../service/training/train-now.ts';
import { defineRoute, type ErrorShape, type MultipartBody } from '../http/route.ts';
import { defaultProjectId } from './detection.ts';

/**
 * The Flask PatchCore service's routes (one reference image, an overlay PNG), on the default project
 * (FAULTLINE_DEFAULT_PROJECT). Its clients read errors as {status: "error", message}.
 */
const tags = ['Compatibility: Flask PatchCore'];
const compatGroup = 'flask' as const;
const errorShape: ErrorShape = {
  schema: z.object({ status: z.literal('error'), message: z.string(), code: z.string() }).meta({ id: 'FlaskError' }),
  render: (e) => ({ body: { status: 'error', message: e.message, code: e.code } }),
};
const errors = [404, 409, 413, 415, 422];

const imageBody: MultipartBody<z.ZodObject> = {
  multipart: {
    fields: z.object({}),
    files: [{ name: 'image', description: 'The image', required: true, multiple: false }],
  },
};

export const flaskRoutes = [
  defineRoute({
    method: 'POST',
    path: '/load_reference',
    operationId: 'flaskLoadReference',
    summary:
      'Add one normal image to the default project and build its memory bank from all of them (multipart "image")',
    description:
      'Trains at once, in the request (at most 25 s; a 409 with the job id past that): one image makes a model ' +
      '(calibrated on augmented views of itself), each further call adds a reference and rebuilds the bank from all.',
    tags,
    compatGroup,
    errorShape,
    body: imageBody,
    success: {
      status: 200,
      description: 'The bank',
      schema: z.object({
        status: z.literal('success'),
        message: z.string(),
        patches: z.number().int().meta({ description: 'Rows of the memory bank' }),
        feature_dim: z.number().int(),
        references: z.number().int().meta({ description: 'Reference images behind the bank' }),
        model_version: z.number().int(),
        quality: z.object({ verdict: z.string(), reason: z.string() }),
      }),
    },
    errors,
    handle: async ({ files, principal }, s) => {
      const projectId = await defaultProjectId(s, principal);
      const file = files.image[0]!;
      await addTrainingImage(s, projectId, { name: file.filename || 'reference.png', bytes: file.content });
      const { model, featureDim } = await trainNow(s, projectId);
      return {
        status: 200,
        body: {
          status: 'success',
          message: `memory bank built from ${model.trainImages} reference image(s): ${model.quality?.reason ?? 'no quality verdict'}`,
          patches: model.bankRows,
          feature_dim: featureDim,
          references: model.trainImages,
          model_version: model.version,
          quality: { verdict: model.quality?.verdict ?? 'unknown', reason: model.quality?.reason ?? '' },
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/infer',
    operationId: 'flaskInfer',
    summary: 'The overlay PNG of one image (multipart "image"): JET heatmap blended 50/50 over the image',
    tags,
    compatGroup,
    errorShape,
    body: imageBody,
    success: { status: 200, description: 'The overlay', contentType: 'image/png' },
    errors,
    handle: async ({ files, principal }, s) => {
      const projectId = await defaultProjectId(s, principal);
      const file = files.image[0]!;
      const record = await detectImage(s, projectId, file.content, file.filename || 'image', { visualizations: true });
      // The overlay as encoded for this detection (stored too): not read back from the bucket.
      const png = record.pngs?.overlay;
      if (!png) throw new ServiceError('NOT_FOUND', 'the overlay was not kept');
      return {
        status: 200,
        body: Buffer.from(png),
        headers: {
          'content-type': 'image/png',
          'x-anomaly-score': String(record.result.anomaly_score),
          'x-anomaly-detected': String(record.result.is_anomalous),
          'x-result-id': record.id,
        },
      };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/infer_json',
    operationId: 'flaskInferJson',
    summary: 'One image’s verdict as JSON, with a URL of its overlay PNG (multipart "image")',
    tags,
    compatGroup,
    errorShape,
    body: imageBody,
    success: {
      status: 200,
      description: 'The verdict',
      schema: z.object({
        status: z.literal('success'),
        damage_percentage: z.number(),
        anomaly_detected: z.boolean(),
        output_image: z.string().meta({ description: 'Presigned URL of the overlay PNG' }),
        threshold: z.number(),
        anomaly_score: z.number(),
        result_id: z.string(),
      }),
    },
    errors,
    handle: async ({ files, principal }, s) => {
      const projectId = await defaultProjectId(s, principal);
      const file = files.image[0]!;
      const record = await detectImage(s, projectId, file.content, file.filename || 'image', {
        visualizations: true,
        present: { visualizations: true },
      });
      const { visualizations } = record.presented!;
      return {
        status: 200,
        body: {
          status: 'success',
          damage_percentage: record.result.damage_percentage,
          anomaly_detected: record.result.is_anomalous,
          output_image: visualizations?.overlay_url ?? '',
          threshold: record.result.threshold,
          anomaly_score: record.result.anomaly_score,
          result_id: record.id,
        },
      };
    },
  }),
];
