import { z } from 'zod';

/**
 * What travels on the webhook queue: one delivery attempt of one event to one project's webhook. The body is fixed
 * when the event happens (every attempt sends the same bytes, with the same event id); the URL and the signing secret
 * are read from the project at each attempt, so the secret never travels on the queue, a corrected URL is used by the
 * retries, and a deleted project's deliveries are dropped.
 */
export const webhookMessageSchema = z.object({
  kind: z.literal('webhook'),
  projectId: z.string().min(1),
  eventId: z.string().min(1),
  eventType: z.string().min(1),
  /** The exact JSON text that is posted and signed. */
  body: z.string(),
  /** 1 for the first attempt. */
  attempt: z.number().int().min(1),
});
export type WebhookMessage = z.infer<typeof webhookMessageSchema>;

/** The message, or why it is not one (then it is discarded: retrying cannot make it one). */
export function parseWebhookMessage(body: string): { message: WebhookMessage } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { reason: 'not JSON' };
  }
  const parsed = webhookMessageSchema.safeParse(json);
  return parsed.success ? { message: parsed.data } : { reason: 'not a webhook delivery message' };
}

export const DELIVERY_OUTCOMES = ['delivered', 'will-retry', 'gave-up'] as const;

/** One attempt as the delivery log keeps it. */
export const webhookDeliverySchema = z
  .object({
    eventId: z.string(),
    eventType: z.string(),
    attempt: z.number().int().meta({ description: '1 for the first attempt' }),
    attemptedAt: z.iso.datetime(),
    url: z.string().meta({ description: 'The webhook URL without user info or query' }),
    outcome: z.enum(DELIVERY_OUTCOMES).meta({
      description:
        'delivered (2xx); will-retry (another attempt at nextAttemptAt); gave-up (attempts used up, or refused for good)',
    }),
    statusCode: z
      .number()
      .int()
      .nullable()
      .meta({ description: "The subscriber's HTTP status; null when there was no answer" }),
    error: z.string().nullable().meta({ description: 'Why the attempt failed (timeout, connection error, status)' }),
    durationMs: z.number().int(),
    nextAttemptAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

/** SQS holds a message back for at most 15 minutes (DelaySeconds). */
export const MAX_DELAY_SECONDS = 900;

/** The retry delays in seconds, one per retry, from a comma-separated setting: "10,30,120" retries three times. */
export const retryScheduleSchema = z
  .string()
  .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/, 'comma-separated whole seconds, e.g. 10,30,120,600,900')
  .transform((v) => v.split(',').map((n) => Number(n.trim())))
  .refine((delays) => delays.length <= 50, 'at most 50 retries')
  .refine(
    (delays) => delays.every((d) => d <= MAX_DELAY_SECONDS),
    `each delay at most ${MAX_DELAY_SECONDS} seconds (the longest SQS delay)`,
  );

/** Ten attempts over about 1 h 30 min: a subscriber down for a deployment or an hour still gets its events. */
export const DEFAULT_RETRY_SECONDS = '10,30,120,600,900,900,900,900,900';
