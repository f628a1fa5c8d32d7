import type { LiveConnectionStore } from '../ports/live-connection-store.ts';
import type { LivePoster } from '../ports/live-poster.ts';
import type { Log } from '../log.ts';
import { covers } from './live-messages.ts';
import type { LiveDelivery } from './live-routing.ts';

/** Posts in flight at once (the Management API's throttle is per account; a few dozen is far under it). */
const POSTS_AT_ONCE = 16;

export interface FanOutOutcome {
  posted: number;
  /** Connections found gone (their records removed). */
  gone: number;
  failed: number;
}

/**
 * Deliveries to the connections of API Gateway's WebSocket API whose subscriptions cover them (what a subscriber
 * receives is live-routing.ts's, as in the local feed). One lookup per project; a connection receives each message
 * once however many of its subscriptions cover it. A connection that is gone is forgotten; a post that fails
 * otherwise is logged and the others go on (a live message is not retried: a client that misses one asks with `since`).
 */
export async function fanOut(
  deps: { liveConnections: LiveConnectionStore; log: Log },
  poster: LivePoster,
  deliveries: LiveDelivery[],
): Promise<FanOutOutcome> {
  const byProject = new Map<string, LiveDelivery[]>();
  for (const d of deliveries) byProject.set(d.topic.projectId, [...(byProject.get(d.topic.projectId) ?? []), d]);
  const posts: { connectionId: string; data: string }[] = [];
  for (const [projectId, list] of byProject) {
    const subscribers = await deps.liveConnections.subscribersOf(projectId);
    const byConnection = new Map<string, typeof subscribers>();
    for (const sub of subscribers)
      byConnection.set(sub.connectionId, [...(byConnection.get(sub.connectionId) ?? []), sub]);
    for (const [connectionId, subs] of byConnection)
      for (const d of list)
        if (subs.some((s) => covers(s.subscription, d.topic)))
          posts.push({ connectionId, data: JSON.stringify(d.message) });
  }
  const outcome: FanOutOutcome = { posted: 0, gone: 0, failed: 0 };
  const gone = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < posts.length) {
      const { connectionId, data } = posts[next++];
      if (gone.has(connectionId)) continue;
      try {
        if (await poster.post(connectionId, data)) outcome.posted++;
        else if (!gone.has(connectionId)) {
          gone.add(connectionId);
          await deps.liveConnections.disconnect(connectionId);
        }
      } catch (error) {
        outcome.failed++;
        deps.log({ level: 'error', msg: 'live message not posted', connectionId, error: String(error) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(POSTS_AT_ONCE, posts.length) }, worker));
  outcome.gone = gone.size;
  return outcome;
}
