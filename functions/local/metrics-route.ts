import { defineRoute } from '../api/http/route.ts';
import type { PrometheusMetrics } from './prometheus-metrics.ts';

/**
 * GET /metrics: the local runtime's metrics in Prometheus's text format, for administrators (as the other operational
 * route, POST /api/v1/dead-letters/redrive). Local only, not in the route table: in AWS the same metrics go to
 * CloudWatch from every function and worker (embedded metric format), and one Lambda container's counters would be a
 * misleading scrape; so it is neither deployed nor in the OpenAPI document.
 */
export const metricsRoute = (prometheus: PrometheusMetrics) =>
  defineRoute({
    method: 'GET',
    path: '/metrics',
    operationId: 'prometheusMetrics',
    summary: "This runtime's metrics in Prometheus's text exposition format",
    tags: ['Operations'],
    admin: true,
    success: { status: 200, description: 'Prometheus text format 0.0.4', contentType: 'text/plain' },
    handle: async () => ({
      status: 200,
      body: Buffer.from(await prometheus.text()),
      headers: { 'content-type': prometheus.contentType },
    }),
  });
