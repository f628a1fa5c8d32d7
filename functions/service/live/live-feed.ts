import type { Principal } from '../auth/principal.ts';
import type { MetricAnomaly } from '../domain/sensors.ts';
import { isCallersFault, errorStatus } from '../errors.ts';
import type { FaultlineEvent } from '../ports/event-publisher.ts';
import type { ScoredSeries } from '../sensors/scoring.ts';
import type { Services } from '../services.ts';
import {
  covers,
  liveClientMessageSchema,
  type LiveServerMessage,
  MAX_LIVE_MESSAGE_BYTES,
  MAX_SUBSCRIPTIONS,
  type Subscription,
  subscriptionKey,
} from './live-messages.ts';
import { authorizeSubscription, replayAnomalies } from './live-subscriptions.ts';

/** Most points one `points` message carries per metric; more in one interval are counted as skipped. */
export const MAX_POINTS_PER_MESSAGE = 1000;

/** One connected client, as the transport (a WebSocket) gives it. */
export interface LiveClient {
  principal: Principal;
  /** `lossy`: a message that may be dropped when the client reads too slowly (points); others never are. */
  send(message: LiveServerMessage, lossy: boolean): void;
}

interface PendingPoints {
  series: ScoredSeries;
  skipped: number;
}

/** A client's subscriptions and its points waiting for the next interval. */
export class LiveConnection {
  readonly subscriptions = new Map<string, Subscription>();
  readonly pending = new Map<string, PendingPoints>();

  constructor(
    private readonly feed: LiveFeed,
    private readonly s: Services,
    readonly client: LiveClient,
  ) {}

  /**
   * One message from the client. Anything wrong with it (not JSON, not a known message, a project the caller may not
   * read) is answered with an error message; the connection and its other subscriptions go on.
   */
  async receive(raw: string): Promise<void> {
    const fail = (code: string, message: string) => this.client.send({ type: 'error', code, message }, false);
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
      this.subscriptions.delete(key);
      return this.client.send({ type: 'unsubscribed', subscription: sub }, false);
    }
    if (!this.subscriptions.has(key) && this.subscriptions.size >= MAX_SUBSCRIPTIONS)
      return fail('TOO_MANY_SUBSCRIPTIONS', `a connection holds at most ${MAX_SUBSCRIPTIONS} subscriptions`);
    try {
      await authorizeSubscription(this.s, this.client.principal, sub);
    } catch (error) {
      if (!isCallersFault(error)) throw error;
      const e = error as { code?: string; message: string };
      return fail(errorStatus(error) === 404 ? 'NOT_FOUND' : (e.code ?? 'FORBIDDEN'), e.message);
    }
    // Subscribed before the replay is read: an anomaly found meanwhile comes live (and may come in the replay too;
    // an anomaly's id says it is the same).
    this.subscriptions.set(key, sub);
    this.client.send({ type: 'subscribed', subscription: sub }, false);
    if (m.since !== undefined) {
      const since = typeof m.since === 'number' ? m.since : Date.parse(m.since);
      const replay = await replayAnomalies(this.s, sub, since);
      this.client.send({ type: 'replay', subscription: sub, since: new Date(since).toISOString(), ...replay }, false);
    }
  }

  covers(what: { projectId: string; siteId?: string; metricId?: string }): boolean {
    for (const sub of this.subscriptions.values()) if (covers(sub, what)) return true;
    return false;
  }

  /** Points wait for the next interval, at most MAX_POINTS_PER_MESSAGE a metric (the newest). */
  queuePoints(series: ScoredSeries): void {
    let p = this.pending.get(series.metricId);
    if (!p) this.pending.set(series.metricId, (p = { series: { ...series, time: [], value: [] }, skipped: 0 }));
    p.series.time.push(...series.time);
    p.series.value.push(...series.value);
    const over = p.series.time.length - MAX_POINTS_PER_MESSAGE;
    if (over > 0) {
      p.series.time.splice(0, over);
      p.series.value.splice(0, over);
      p.skipped += over;
    }
  }

  flushPoints(): void {
    for (const { series, skipped } of this.pending.values())
      this.client.send({ type: 'points', ...series, skipped }, true);
    this.pending.clear();
  }

  close(): void {
    this.feed.disconnect(this);
  }
}

/**
 * The live feed of one runtime: new anomalies and image detections (from the events the service publishes) and newly
 * scored points (from the stream's consumer) go to the connections whose subscriptions cover them. Points are sent
 * once per interval per metric; anomalies and detections at once.
 */
export class LiveFeed {
  private readonly connections = new Set<LiveConnection>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s: Services,
    pointsIntervalMs = 1000,
  ) {
    this.timer = setInterval(() => {
      for (const c of this.connections) c.flushPoints();
    }, pointsIntervalMs);
    this.timer.unref();
  }

  connect(client: LiveClient): LiveConnection {
    const c = new LiveConnection(this, this.s, client);
    this.connections.add(c);
    return c;
  }

  disconnect(c: LiveConnection): void {
    this.connections.delete(c);
  }

  get size(): number {
    return this.connections.size;
  }

  /** An event the service published: Metric Anomaly and Detection Completed reach subscribers. */
  event(e: FaultlineEvent): void {
    if (e.type === 'Metric Anomaly') {
      const anomaly = e.detail as unknown as MetricAnomaly;
      for (const c of this.connections)
        if (c.covers(anomaly)) c.client.send({ type: 'anomaly', projectId: e.projectId, anomaly }, false);
    } else if (e.type === 'Detection Completed') {
      for (const c of this.connections)
        if (c.covers({ projectId: e.projectId }))
          c.client.send({ type: 'detection', projectId: e.projectId, detection: e.detail }, false);
    }
  }

  /** Points the consumer scored. */
  points(series: ScoredSeries[]): void {
    for (const sr of series) for (const c of this.connections) if (c.covers(sr)) c.queuePoints(sr);
  }

  close(): void {
    clearInterval(this.timer);
    this.connections.clear();
  }
}
