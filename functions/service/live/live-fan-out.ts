import type { LiveConnectionStore } from '../ports/live-connection-store.ts';
import type { LivePoster } from '../ports/live-poster.ts';
import type { Log } from '../log.ts';
import { LOSSY_BUFFER_BYTES, MAX_BUFFER_BYTES, MAX_FAILED_POSTS } from './live-limits.ts';
import { covers } from './live-messages.ts';
import type { LiveDelivery } from './live-routing.ts';

/** Posts in flight at once (the Management API's throttle is per account; a few dozen is far under it). */
export const POSTS_AT_ONCE = 16;

export interface FanOutOutcome {
  posted: number;
  /** Connections found gone (their records removed). */
  gone: number;
  failed: number;
  /** Points messages not posted: the connection had been sent LOSSY_BUFFER_BYTES in this fan-out already. */
  dropped: number;
  /** Connections cut off as too slow (over MAX_BUFFER_BYTES in this fan-out, or MAX_FAILED_POSTS failed posts). */
  cutOff: number;
}

/**
 * Deliveries to the connections of API Gateway's WebSocket API whose subscriptions cover them (what a subscriber
 * receives is live-routing.ts's, as in the local feed). One lookup per project; a connection receives each message
 * once however many of its subscriptions cover it. A connection that is gone is forgotten; a post that fails
 * otherwise is logged and the others go on (a live message is not retried: a client that misses one asks with `since`).
 * Each connection is held to the local feed's limits (live-limits.ts), counted over what this fan-out posts to it:
 * points past LOSSY_BUFFER_BYTES are dropped for it; past MAX_BUFFER_BYTES, or after MAX_FAILED_POSTS failed posts,
 * the connection is closed and forgotten (the client reconnects and subscribes with `since`).
 */
export async function fanOut(
  deps: { liveConnections: LiveConnectionStore; log: Log },
  poster: LivePoster,
  deliveries: LiveDelivery[],
): Promise<FanOutOutcome> {
  const byProject = new Map<string, LiveDelivery[]>();
  for (const d of deliveries) byProject.set(d.topic.projectId, [...(byProject.get(d.topic.projectId) ?? []), d]);
  const posts: { connectionId: string; data: string; lossy: boolean }[] = [];
  for (const [projectId, list] of byProject) {
    const subscribers = await deps.liveConnections.subscribersOf(projectId);
    const byConnection = new Map<string, typeof subscribers>();
    for (const sub of subscribers)
      byConnection.set(sub.connectionId, [...(byConnection.get(sub.connectionId) ?? []), sub]);
    for (const [connectionId, subs] of byConnection)
      for (const d of list)
        if (subs.some((s) => covers(s.subscription, d.topic)))
          posts.push({ connectionId, data: JSON.stringify(d.message), lossy: d.message.type === 'points' });
  }
  const outcome: FanOutOutcome = { posted: 0, gone: 0, failed: 0, dropped: 0, cutOff: 0 };
  const gone = new Set<string>();
  const cut = new Set<string>();
  const sent = new Map<string, { bytes: number; failed: number }>();
  const cutOff = async (connectionId: string, why: string) => {
    if (cut.has(connectionId)) return;
    cut.add(connectionId);
    deps.log({ level: 'warn', msg: 'live client cut off', connectionId, why });
    try {
      await poster.close(connectionId);
    } catch (error) {
      deps.log({ level: 'error', msg: 'live connection not closed', connectionId, error: String(error) });
    }
    await deps.liveConnections.disconnect(connectionId);
  };
  let next = 0;
  const worker = async () => {
    while (next < posts.length) {
      const { connectionId, data, lossy } = posts[next++];
      if (gone.has(connectionId) || cut.has(connectionId)) continue;
      let state = sent.get(connectionId);
      if (!state) sent.set(connectionId, (state = { bytes: 0, failed: 0 }));
      const bytes = state.bytes + Buffer.byteLength(data);
      if (lossy && bytes > LOSSY_BUFFER_BYTES) {
        outcome.dropped++;
        continue;
      }
      if (bytes > MAX_BUFFER_BYTES) {
        await cutOff(connectionId, `over ${MAX_BUFFER_BYTES} bytes at once`);
        continue;
      }
      state.bytes = bytes;
      try {
        if (await poster.post(connectionId, data)) outcome.posted++;
        else if (!gone.has(connectionId)) {
          gone.add(connectionId);
          await deps.liveConnections.disconnect(connectionId);
        }
      } catch (error) {
        outcome.failed++;
        deps.log({ level: 'error', msg: 'live message not posted', connectionId, error: String(error) });
        if (++state.failed >= MAX_FAILED_POSTS) await cutOff(connectionId, `${state.failed} posts failed`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(POSTS_AT_ONCE, posts.length) }, worker));
  outcome.gone = gone.size;
  outcome.cutOff = cut.size;
  return outcome;
}
