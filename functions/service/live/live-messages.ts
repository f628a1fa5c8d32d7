import { z } from 'zod';
import type { MetricAnomaly } from '../domain/sensors.ts';

/** Longest message a live client may send (a subscription is a few hundred bytes). */
export const MAX_LIVE_MESSAGE_BYTES = 16 * 1024;
/** Subscriptions one connection may hold at once. */
export const MAX_SUBSCRIPTIONS = 100;
/**
 * Anomalies (sensors project) or detections (image project) a `since` replay sends at most, the newest; `complete:
 * false` says there were more (list them over HTTP).
 */
export const MAX_REPLAY_ITEMS = 1000;

const id = z.string().min(1).max(128);

/** What a subscription covers: a project (its detections and all its anomalies and points), one site, or one metric. */
export const subscriptionSchema = z
  .object({ projectId: id, siteId: id.optional(), metricId: id.optional() })
  .strict()
  .refine((s) => !(s.siteId && s.metricId), 'give siteId or metricId, not both');
export type Subscription = z.infer<typeof subscriptionSchema>;

/**
 * What a client sends. `since` (ISO 8601 or epoch ms) replays the anomalies that started since then (sensors project)
 * or the detections made since then (image project).
 */
export const liveClientMessageSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('subscribe'),
      projectId: id,
      siteId: id.optional(),
      metricId: id.optional(),
      since: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]).optional(),
    })
    .strict(),
  z.object({ type: z.literal('unsubscribe'), projectId: id, siteId: id.optional(), metricId: id.optional() }).strict(),
]);
export type LiveClientMessage = z.infer<typeof liveClientMessageSchema>;

/** What the server sends. Points are throttled per metric: one message per interval, with the points since the last. */
export type LiveServerMessage =
  | { type: 'subscribed'; subscription: Subscription }
  | { type: 'unsubscribed'; subscription: Subscription }
  | {
      type: 'replay';
      subscription: Subscription;
      since: string;
      anomalies: MetricAnomaly[];
      /** As the `detection` messages carry them, newest first. */
      detections: Record<string, unknown>[];
      /** False: more happened since then than a replay sends (MAX_REPLAY_ITEMS); list the rest over HTTP. */
      complete: boolean;
      /** A replay comes in parts of at most REPLAY_PART_ITEMS items (1, 2, ...); `last` on the final one. */
      part: number;
      last: boolean;
    }
  | { type: 'anomaly'; projectId: string; anomaly: MetricAnomaly }
  | {
      type: 'points';
      projectId: string;
      siteId: string;
      metricId: string;
      time: number[];
      value: number[];
      /** Points left out because more arrived in one interval than a message carries. */
      skipped: number;
    }
  | { type: 'detection'; projectId: string; detection: Record<string, unknown> }
  | { type: 'error'; code: string; message: string };

/** The key a subscription is held under (the same subscription twice is one). */
export const subscriptionKey = (s: Subscription): string => `${s.projectId}/${s.siteId ?? '*'}/${s.metricId ?? '*'}`;

/** Whether something of this project, site and metric falls under the subscription. */
export const covers = (s: Subscription, what: { projectId: string; siteId?: string; metricId?: string }): boolean =>
  s.projectId === what.projectId &&
  (s.siteId === undefined || s.siteId === what.siteId) &&
  (s.metricId === undefined || s.metricId === what.metricId);
