import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { services } from '../service/adapters/aws-services.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { toErrorResponse } from './http/errors.ts';
import { type ApiHandler, routeHandler } from './http/route-handler.ts';
import { routeKey } from './http/route.ts';
import { routes } from './routes/index.ts';

/** One Lambda handler per route, by API Gateway route key ("POST /api/v1/projects/{projectId}/detect"). */
export const handlers: Record<string, ApiHandler> = Object.fromEntries(
  routes.map((r) => [routeKey(r), routeHandler(r, services)]),
);

/** The API as one Lambda function: API Gateway passes the matched route key. */
export const handler = withLambdaTelemetry(apiHandler);

async function apiHandler(event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> {
  const route = handlers[event.routeKey];
  if (route) return route(event, context);
  const { status, body } = toErrorResponse(
    new Error(`no route ${event.routeKey}`),
    event.requestContext?.requestId ?? 'unknown',
  );
  return {
    statusCode: status === 500 ? 404 : status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: { ...body.error, code: 'ROUTE_NOT_FOUND', message: `no route ${event.routeKey}` } }),
  };
}
