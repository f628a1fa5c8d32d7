import type { Principal } from '../auth/principal.ts';
import type { FaultlineEvent } from '../ports/event-publisher.ts';
import type { ScoredSeries } from '../sensors/scoring.ts';
import type { Services } from '../services.ts';
import { POINTS_INTERVAL_MS } from './live-limits.ts';
import { covers, type LiveServerMessage, type Subscription } from './live-messages.ts';
import {
  deliveryOfEvent,
  type LiveDelivery,
  type LiveTopic,
  MAX_POINTS_PER_MESSAGE,
  pointsDelivery,
} from './live-routing.ts';
import { handleLiveMessage } from './live-session.ts';

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

/** A client of this process: its subscriptions in memory, and its points waiting for the next interval. */
export class LiveConnection {
  readonly subscriptions = new Map<string, Subscription>();
  readonly pending = new Map<string, PendingPoints>();

  constructor(
    private readonly feed: LiveFeed,
    private readonly s: Services,
    readonly client: LiveClient,
  ) {}

  /** One message from the client (service/live/live-session.ts, as in AWS). */
  receive(raw: string): Promise<void> {
    return handleLiveMessage(
      this.s,
      this.client.principal,
      {
        add: async (key, sub, max) => {
          if (!this.subscriptions.has(key) && this.subscriptions.size >= max) return false;
          this.subscriptions.set(key, sub);
          return true;
        },
        remove: async (key) => void this.subscriptions.delete(key),
      },
      raw,
      (message) => this.client.send(message, false),
    );
  }

  covers(topic: LiveTopic): boolean {
    for (const sub of this.subscriptions.values()) if (covers(sub, topic)) return true;
    return false;
  }

  /** Points wait for the next interval, where one message per metric carries them (pointsDelivery's limit). */
  queuePoints(series: ScoredSeries): void {
    let p = this.pending.get(series.metricId);
    if (!p) this.pending.set(series.metricId, (p = { series: { ...series, time: [], value: [] }, skipped: 0 }));
    p.series.time.push(...series.time);
    p.series.value.push(...series.value);
    // Held at most one message's worth: a metric flooding in one interval costs no memory beyond it.
    const over = p.series.time.length - MAX_POINTS_PER_MESSAGE;
    if (over > 0) {
      p.series.time.splice(0, over);
      p.series.value.splice(0, over);
      p.skipped += over;
    }
  }

  flushPoints(): void {
    for (const { series, skipped } of this.pending.values())
      this.client.send(pointsDelivery(series, skipped).message, true);
    this.pending.clear();
  }

  close(): void {
    this.feed.disconnect(this);
  }
}

/**
 * The live feed of one runtime (npm start): new anomalies and image detections (from the events the service
 * publishes) and newly scored points (from the stream's consumer) go to the connections whose subscriptions cover
 * them. Points are sent once per interval per metric; anomalies and detections at once. What a subscriber receives is
 * decided by service/live/live-routing.ts, as in AWS (service/live/live-fan-out.ts).
 */
export class LiveFeed {
  private readonly connections = new Set<LiveConnection>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly s: Services,
    pointsIntervalMs = POINTS_INTERVAL_MS,
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
    const delivery: LiveDelivery | undefined = deliveryOfEvent(e);
    if (!delivery) return;
    for (const c of this.connections) if (c.covers(delivery.topic)) c.client.send(delivery.message, false);
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
