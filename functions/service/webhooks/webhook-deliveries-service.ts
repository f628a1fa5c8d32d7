import { signWebhook } from '../adapters/event-publishers.ts';
import { loggableUrl, PrivateTargetError, postJson } from '../adapters/webhook-sender.ts';
import { ConfigError } from '../config.ts';
import { parseWebhookMessage, type WebhookDelivery, type WebhookMessage } from '../domain/webhook-delivery.ts';
import { requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';

/** How long one attempt waits for the subscriber's answer. */
export const WEBHOOK_TIMEOUT_MS = 5000;

export type DeliveryOutcome = WebhookDelivery['outcome'] | 'dropped';

/** A 4xx other than 408 (timeout) and 429 (slow down) says the subscriber refuses this event: retrying cannot help. */
const refusedForGood = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

/**
 * One attempt to deliver a queued event to its project's webhook, recorded in the delivery log. The body is the one
 * fixed when the event happened; it is signed now with the project's current secret and posted to its current URL.
 * A failed attempt (no answer in time, no connection, a status other than 2xx) is queued again with the next delay
 * of FAULTLINE_WEBHOOK_RETRY_SECONDS, until those run out; the last attempt is logged as given up. A deleted project's
 * deliveries are dropped. `signal` aborts a post when the process stops: that attempt is not recorded, and the
 * message (not deleted) comes back.
 */
export async function deliverWebhook(
  s: Services,
  message: WebhookMessage,
  signal?: AbortSignal,
): Promise<DeliveryOutcome> {
  if (!s.webhookQueue)
    throw new ConfigError('webhook deliveries need FAULTLINE_WEBHOOK_QUEUE_URL (retries go back on that queue)');
  const project = await s.projects.get(message.projectId);
  const about = {
    projectId: message.projectId,
    eventId: message.eventId,
    type: message.eventType,
    attempt: message.attempt,
  };
  if (!project) {
    s.log({ msg: 'webhook dropped: the project was deleted', ...about });
    return 'dropped';
  }
  const attemptedAt = new Date().toISOString();
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  let final = false;
  if (!project.webhookUrl) {
    error = 'the project no longer has a webhook';
    final = true;
  } else {
    try {
      statusCode = await postJson(
        project.webhookUrl,
        message.body,
        {
          'content-type': 'application/json',
          'x-faultline-signature': signWebhook(message.body, project.webhookSecret),
          'x-faultline-event': message.eventType,
          'x-faultline-event-id': message.eventId,
          'x-faultline-delivery-attempt': String(message.attempt),
        },
        { allowPrivate: s.config.FAULTLINE_WEBHOOK_PRIVATE_TARGETS === 'allow', timeoutMs: WEBHOOK_TIMEOUT_MS, signal },
      );
      if (statusCode < 200 || statusCode >= 300) {
        error = `answered ${statusCode}`;
        final = refusedForGood(statusCode);
      }
    } catch (e) {
      if (signal?.aborted) throw e;
      error = (e as Error).message;
      final = e instanceof PrivateTargetError;
    }
  }
  const delay = error && !final ? s.config.FAULTLINE_WEBHOOK_RETRY_SECONDS[message.attempt - 1] : undefined;
  const delivery: WebhookDelivery = {
    eventId: message.eventId,
    eventType: message.eventType,
    attempt: message.attempt,
    attemptedAt,
    url: project.webhookUrl ? loggableUrl(project.webhookUrl) : '',
    outcome: !error ? 'delivered' : delay === undefined ? 'gave-up' : 'will-retry',
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
    nextAttemptAt: delay === undefined ? null : new Date(Date.now() + delay * 1000).toISOString(),
  };
  // Recorded first: if queueing the retry fails, this message comes back and the attempt is made again.
  await s.webhookDeliveries.record(project.id, delivery);
  if (delay !== undefined)
    await s.webhookQueue.send({ ...message, attempt: message.attempt + 1 } satisfies WebhookMessage, {
      delaySeconds: delay,
    });
  if (error)
    s.log({
      level: 'warn',
      msg: `webhook attempt failed; ${delivery.outcome}`,
      ...about,
      url: delivery.url,
      error,
      nextAttemptAt: delivery.nextAttemptAt,
    });
  return delivery.outcome;
}

/** One message of the webhook queue: delivered (or retried, or given up); a message that is not ours is discarded. */
export async function handleWebhookMessage(
  s: Services,
  body: string,
  signal?: AbortSignal,
): Promise<DeliveryOutcome | 'discarded'> {
  const parsed = parseWebhookMessage(body);
  if ('reason' in parsed) {
    s.log({
      level: 'warn',
      msg: 'discarding a message the webhook consumer does not understand',
      reason: parsed.reason,
      body: body.slice(0, 200),
    });
    return 'discarded';
  }
  return deliverWebhook(s, parsed.message, signal);
}

/** The project's delivery log, newest attempt first. */
export async function listWebhookDeliveries(
  s: Services,
  projectId: string,
  limit: number,
  cursor?: string,
): Promise<{ items: WebhookDelivery[]; cursor: string | null }> {
  await requireProject(s, projectId);
  return s.webhookDeliveries.list(projectId, limit, cursor);
}
