import { z } from 'zod';
import { ACCEPTED_CONTENT_TYPES, presignUploads, uploadImages } from '../../service/datasets/datasets-service.ts';
import { requireProject } from '../../service/projects/projects-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, projectParams } from './common.ts';

const tags = ['Training data'];

const datasetImageSchema = z
  .object({
    key: z.string(),
    name: z.string(),
    size: z.number().int(),
    width: z.number().int(),
    height: z.number().int(),
    format: z.string(),
    uploadedAt: z.iso.datetime(),
    url: z.string().meta({ description: 'Presigned URL of the image (thumbnails), valid for a limited time' }),
  })
  .meta({ id: 'DatasetImage' });

export const datasetRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/uploads',
    operationId: 'presignUploads',
    summary: 'Presigned POST uploads for normal images',
    description:
      'Each file gets a URL and form fields: POST them as multipart/form-data with the file last (field "file"). The upload is limited to the declared content type and the size limit, and the image is counted once it is stored.',
    tags,
    params: projectParams,
    body: {
      json: z
        .object({
          files: z
            .array(
              z.object({
                name: z.string().min(1).max(255),
                contentType: z.enum(ACCEPTED_CONTENT_TYPES as [string, ...string[]]),
                size: z.number().int().positive(),
              }),
            )
            .min(1),
        })
        .meta({ id: 'UploadRequest' }),
    },
    success: {
      status: 200,
      description: 'One presigned POST per file',
      schema: z.object({
        uploads: z.array(
          z.object({
            name: z.string(),
            key: z.string(),
            url: z.string(),
            fields: z.record(z.string(), z.string()),
            expiresIn: z.number().int(),
          }),
        ),
      }),
    },
    errors: [404, 413, 415],
    handle: async ({ params, body }, s) => ({
      status: 200,
      body: { uploads: await presignUploads(s, params.projectId, body.files) },
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/images',
    operationId: 'uploadImages',
    summary: 'Upload a small batch of normal images in the request (multipart field "files")',
    description: 'Images that cannot be decoded are listed under rejected with the reason; the others are stored.',
    tags,
    params: projectParams,
    body: {
      multipart: {
        fields: z.object({}),
        files: [{ name: 'files', description: 'Images (JPEG, PNG, WebP, TIFF, ...)', required: true, multiple: true }],
      },
    },
    success: {
      status: 200,
      description: 'What was stored and what was not',
      schema: z.object({
        accepted: z.array(z.object({ name: z.string(), key: z.string(), width: z.number(), height: z.number() })),
        rejected: z.array(z.object({ name: z.string(), code: z.string(), message: z.string() })),
        imageCount: z.number().int(),
      }),
    },
    errors: [404, 413, 415],
    handle: async ({ params, files }, s) => {
      const outcome = await uploadImages(
        s,
        params.projectId,
        (files.files ?? []).map((f) => ({ name: f.filename, bytes: f.content })),
      );
      const project = await requireProject(s, params.projectId);
      return { status: 200, body: { ...outcome, imageCount: project.imageCount } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/images',
    operationId: 'listImages',
    summary: 'List the normal images and their count',
    tags,
    params: projectParams,
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of images',
      schema: page(datasetImageSchema, 'DatasetImagePage').extend({ count: z.number().int() }),
    },
    errors: [404],
    handle: async ({ params, query }, s) => {
      const project = await requireProject(s, params.projectId);
      const pageOf = await s.images.list(params.projectId, query.limit, query.cursor);
      const items = await Promise.all(
        pageOf.items.map(async (image) => ({
          ...image,
          url: await s.objects.presignGet(image.key, s.config.FAULTLINE_PRESIGN_SECONDS),
        })),
      );
      return { status: 200, body: { items, cursor: pageOf.cursor, count: project.imageCount } };
    },
  }),
];
