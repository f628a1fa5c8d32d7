import { z } from 'zod';
import { jobSchema } from '../../service/domain/job.ts';
import {
  reviewMetricsRowSchema,
  reviewRequestSchema,
  reviewSchema,
  reviewVerdictSchema,
} from '../../service/domain/review.ts';
import { requestBankUpdate, requestRecalibration } from '../../service/reviews/model-updates.ts';
import {
  listReviews,
  METRIC_PERIODS,
  projectReviewMetrics,
  reviewResult,
} from '../../service/reviews/reviews-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, projectParams } from './common.ts';
import { resultIdParam } from './detection.ts';

const reviewListItemSchema = z
  .object({
    resultId: z.string(),
    createdAt: z.iso.datetime(),
    batchId: z.string(),
    source: z.object({ kind: z.enum(['api', 'inbox']), name: z.string(), key: z.string().nullable() }),
    modelVersion: z.string(),
    flagged: z.boolean().meta({ description: 'Whether the model called it anomalous' }),
    anomalyScore: z.number(),
    classification: z.string(),
    review: reviewSchema,
  })
  .meta({ id: 'ReviewListItem' });

/** A job that makes a new model version from the reviews (202, like training). */
const modelUpdateRoute = (
  path: string,
  operationId: string,
  summary: string,
  description: string,
  request: typeof requestBankUpdate,
) =>
  defineRoute({
    method: 'POST',
    path,
    operationId,
    summary,
    description: `${description} Answers 202 with the job; the new version becomes active and the previous one stays (POST .../models/{version}/activate). Send an Idempotency-Key header to make retries safe.`,
    tags: ['Reviews'],
    params: projectParams,
    success: { status: 202, description: 'The job (an earlier one for a repeated Idempotency-Key)', schema: jobSchema },
    errors: [404, 409],
    handle: async ({ params, headers }, s) => {
      const { job } = await request(s, params.projectId, headers['idempotency-key']);
      return { status: 202, body: job, headers: { location: `/api/v1/jobs/${job.id}` } };
    },
  });

export const reviewRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects/{projectId}/results/{resultId}/review',
    operationId: 'reviewResult',
    summary:
      'Review a stored result: normal (a false alarm when flagged), defect, or unsure; replaces an earlier review',
    tags: ['Reviews'],
    params: projectParams.extend({ resultId: resultIdParam }),
    body: { json: reviewRequestSchema },
    success: { status: 200, description: 'The review as kept, with who, when and its revision', schema: reviewSchema },
    errors: [404, 409],
    handle: async ({ params, body, principal }, s) => ({
      status: 200,
      body: await reviewResult(s, params.projectId, params.resultId, body, principal),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/reviews',
    operationId: 'listReviews',
    summary: 'Reviewed results, newest result first',
    tags: ['Reviews'],
    params: projectParams,
    query: pageQuery.extend({ verdict: reviewVerdictSchema.optional() }),
    success: {
      status: 200,
      description: 'A page of reviews, filled even when the filter matches few (a cursor when more may follow)',
      schema: page(reviewListItemSchema, 'ReviewPage'),
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await listReviews(s, params.projectId, query.verdict, query.limit, query.cursor),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/review-metrics',
    operationId: 'reviewMetrics',
    summary: 'Precision and recall of the flags against the reviews, per period and model version',
    tags: ['Reviews'],
    params: projectParams,
    query: z.object({
      period: z.enum(METRIC_PERIODS).default('day'),
      since: z.iso.datetime().optional().meta({ description: 'Only results created after this time' }),
    }),
    success: {
      status: 200,
      description: 'One row per period and model version, oldest period first',
      schema: z.object({ items: z.array(reviewMetricsRowSchema) }).meta({ id: 'ReviewMetrics' }),
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: { items: await projectReviewMetrics(s, params.projectId, query.period, query.since) },
    }),
  }),
  modelUpdateRoute(
    '/api/v1/projects/{projectId}/update-bank',
    'updateBank',
    'Make a new model version with the reviewed false alarms added to the memory bank',
    "Adds a coreset of the patches of every flagged result reviewed normal whose image is kept (drop folder; API uploads with keepFlaggedImages) (not yet in the active model's bank) to the active model's bank, keeping its threshold.",
    requestBankUpdate,
  ),
  modelUpdateRoute(
    '/api/v1/projects/{projectId}/recalibrate',
    'recalibrate',
    'Make a new model version with the threshold recalibrated on the confirmed defects (F1-optimal)',
    "Sets the active model's image threshold where F1 is highest over its calibration normals and the results reviewed as defects (scored by that model).",
    requestRecalibration,
  ),
];
