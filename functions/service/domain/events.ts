import { z } from 'zod';

/** Every event the service publishes, on the event bus and (as chosen per project) to the project's webhook. */
export const EVENT_TYPES = [
  'Detection Completed',
  'Classification Completed',
  'Objects Detected',
  'Metric Anomaly',
  'Job Succeeded',
  'Job Failed',
  'Model Activated',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * What a webhook gets unless its project says otherwise: one call per image or anomaly, its result or (Job Failed) why
 * there is none. A subscriber asked "is this part good?", not "did the job that carried it finish?"; a drop-folder
 * image used to cost it two calls (Detection Completed and Job Succeeded). Job Succeeded and Model Activated are one
 * setting away.
 */
export const DEFAULT_WEBHOOK_EVENTS: readonly EventType[] = [
  'Detection Completed',
  'Classification Completed',
  'Objects Detected',
  'Metric Anomaly',
  'Job Failed',
];

export const webhookEventsSchema = z
  .array(z.enum(EVENT_TYPES))
  .min(1)
  .refine((types) => new Set(types).size === types.length, 'each event type once')
  .meta({
    description: `The events the project's webhook receives (the event bus gets all). Default: ${DEFAULT_WEBHOOK_EVENTS.join(', ')}`,
  });

/** Whether this project's webhook is to receive this event: a webhook is set and the type is one it takes. */
export const webhookWants = (
  project: { webhookUrl: string | null; webhookEvents?: readonly EventType[] } | undefined,
  type: EventType,
): boolean => Boolean(project?.webhookUrl) && (project?.webhookEvents ?? DEFAULT_WEBHOOK_EVENTS).includes(type);
