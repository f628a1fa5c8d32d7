import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { powertools } from './powertools.ts';

/**
 * A Lambda handler with Powertools' middy middlewares: the Logger gets the invocation's context (function_request_id,
 * cold_start, function name; debug sampling decided per invocation) and the Tracer a subsegment for the handler (X-Ray,
 * with its errors). Metrics need no flush here: they are published as they are recorded (powertools.ts emfMetrics).
 */
export function withLambdaTelemetry<E, R>(
  handler: (event: E, context: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  const { logger, tracer } = powertools();
  const wrapped = middy(handler).use(injectLambdaContext(logger, { resetKeys: true }));
  if (tracer.powertools) wrapped.use(captureLambdaHandler(tracer.powertools, { captureResponse: false }));
  // Tests and scripts call handlers without a context; the Logger reads its fields, so it gets an empty one.
  return (event, context) => wrapped(event, context ?? ({} as Context));
}
