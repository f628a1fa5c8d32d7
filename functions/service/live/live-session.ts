import type { Principal } from '../auth/principal.ts';
import { errorStatus, isCallersFault } from '../errors.ts';
import type { Services } from '../services.ts';
import {
  liveClientMessageSchema,
  type LiveServerMessage,
  MAX_LIVE_MESSAGE_BYTES,
  MAX_SUBSCRIPTIONS,
  type Subscription,
  subscriptionKey,
} from './live-messages.ts';
import { authorizeSubscription, replaySince } from './live-subscriptions.ts';

/** Items one replay message carries at most (an anomaly is under 1 KB of JSON). */
export const REPLAY_PART_ITEMS = 100;

/** A connection's subscriptions, wherever they are kept: in memory (the local socket) or in the table (AWS). */
export interface SubscriptionSet {
  /** Adds it (adding one held again is no change): false when the connection holds MAX_SUBSCRIPTIONS others. */
  add(key: string, subscription: Subscription, max: number): Promise<boolean>;
  remove(key: string): Promise<void>;
}

/**
 * One message from a client, the same locally and in AWS: anything wrong with it (too large, not JSON, not a known
 * message, a project, site or metric the caller may not read) is answered with an error message, and the connection
 * and its other subscriptions go on. Replies go through `send`, in order.
 */
export async function handleLiveMessage(
  s: Services,
  principal: Principal,
  subscriptions: SubscriptionSet,
  raw: string,
  send: (message: LiveServerMessage) => Promise<void> | void,
): Promise<void> {
  const fail = (code: string, message: string) => send({ type: 'error', code, message });
  if (Buffer.byteLength(raw) > MAX_LIVE_MESSAGE_BYTES)
    return fail('MESSAGE_TOO_LARGE', `a message is at most ${MAX_LIVE_MESSAGE_BYTES} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return fail('INVALID_JSON', 'a message is a JSON object such as {"type":"subscribe","projectId":"..."}');
  }
  const parsed = liveClientMessageSchema.safeParse(json);
  if (!parsed.success)
    return fail(
      'VALIDATION_ERROR',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; '),
    );
  const m = parsed.data;
  const sub: Subscription = { projectId: m.projectId, siteId: m.siteId, metricId: m.metricId };
  if (m.siteId && m.metricId) return fail('VALIDATION_ERROR', 'give siteId or metricId, not both');
  const key = subscriptionKey(sub);
  if (m.type === 'unsubscribe') {
    await subscriptions.remove(key);
    return send({ type: 'unsubscribed', subscription: sub });
  }
  try {
    await authorizeSubscription(s, principal, sub);
  } catch (error) {
    if (!isCallersFault(error)) throw error;
    const e = error as { code?: string; message: string };
    return fail(errorStatus(error) === 404 ? 'NOT_FOUND' : (e.code ?? 'FORBIDDEN'), e.message);
  }
  // Subscribed before the replay is read: what happens meanwhile comes live (and may come in the replay too; an
  // anomaly's or a detection's id says it is the same).
  if (!(await subscriptions.add(key, sub, MAX_SUBSCRIPTIONS)))
    return fail('TOO_MANY_SUBSCRIPTIONS', `a connection holds at most ${MAX_SUBSCRIPTIONS} subscriptions`);
  await send({ type: 'subscribed', subscription: sub });
  if (m.since !== undefined) {
    const since = typeof m.since === 'number' ? m.since : Date.parse(m.since);
    const replay = await replaySince(s, sub, since);
    // In parts: API Gateway carries a WebSocket message of at most 128 KB.
    const parts = Math.max(1, Math.ceil((replay.anomalies.length + replay.detections.length) / REPLAY_PART_ITEMS));
    for (let part = 0; part < parts; part++) {
      const slice = <T>(list: T[]) => list.slice(part * REPLAY_PART_ITEMS, (part + 1) * REPLAY_PART_ITEMS);
      await send({
        type: 'replay',
        subscription: sub,
        since: new Date(since).toISOString(),
        anomalies: slice(replay.anomalies),
        detections: slice(replay.detections),
        complete: replay.complete,
        part: part + 1,
        last: part === parts - 1,
      });
    }
  }
}
