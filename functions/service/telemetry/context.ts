import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The ids a unit of work carries from where it began: the API request that caused it (API Gateway's request id, or
 * the local gateway's) and the correlation id that follows it through the queue to the worker and into the events and
 * webhooks it emits. Held per async context, so concurrent requests and jobs in one process never mix them.
 */
export interface TelemetryContext {
  requestId?: string;
  correlationId?: string;
}

const storage = new AsyncLocalStorage<TelemetryContext>();

export const currentTelemetry = (): TelemetryContext => storage.getStore() ?? {};

export function withTelemetry<T>(context: TelemetryContext, work: () => T): T {
  return storage.run({ ...currentTelemetry(), ...context }, work);
}

/** A caller's own correlation id (x-correlation-id) is kept when it is a plain token; anything else is ignored. */
export const CORRELATION_ID = /^[\w.:-]{1,128}$/;

/** The correlation fields an emitted event's detail carries (none when the work has none). */
export function correlationFields(): { correlationId?: string; requestId?: string } {
  const { correlationId, requestId } = currentTelemetry();
  return { ...(correlationId ? { correlationId } : {}), ...(requestId ? { requestId } : {}) };
}
