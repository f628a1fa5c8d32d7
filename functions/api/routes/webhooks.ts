import { webhookDeliverySchema } from '../../service/domain/webhook-delivery.ts';
import { listWebhookDeliveries } from '../../service/webhooks/webhook-deliveries-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, projectParams } from './common.ts';

export const webhookRoutes = [
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}/webhook-deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'The project’s webhook delivery log: every attempt, newest first',
    description:
      'Each attempt with its event id and type, time, status code or error, attempt number and the time of the next retry. Attempts are kept for FAULTLINE_WEBHOOK_LOG_DAYS (30 by default).',
    tags: ['Webhooks'],
    params: projectParams,
    query: pageQuery,
    success: {
      status: 200,
      description: 'A page of delivery attempts',
      schema: page(webhookDeliverySchema, 'WebhookDeliveryPage'),
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await listWebhookDeliveries(s, params.projectId, query.limit, query.cursor),
    }),
  }),
];
