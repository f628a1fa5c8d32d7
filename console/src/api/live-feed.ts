import type { MetricAnomaly } from './sensors.ts';

/**
 * The live feed (new anomalies, newly scored points) over a WebSocket: functions/local/gateway/live-socket.ts locally,
 * API Gateway's WebSocket API in AWS. Browsers cannot set headers on a WebSocket, so the key travels as `?key=`.
 * One connection per page, shared by every screen that listens; it reconnects with a growing, jittered delay and then
 * subscribes again with `since` a little before the newest thing it had seen, so that anomalies found while it was
 * away are replayed (duplicates carry the same id and are merged by the listeners).
 */

export interface LiveSubscription {
  projectId: string;
  siteId?: string;
  metricId?: string;
}

export type LiveMessage =
  | { type: 'anomaly'; projectId: string; anomaly: MetricAnomaly }
  | {
      type: 'points';
      projectId: string;
      siteId: string;
      metricId: string;
      time: number[];
      value: number[];
      skipped: number;
    };

export type LiveStatus = 'connecting' | 'open' | 'reconnecting';

export interface LiveListener {
  message(m: LiveMessage): void;
  /** The connection's state; 'open' after 'reconnecting' means messages may have been missed (reload what is shown). */
  status?(status: LiveStatus): void;
}

/** An anomaly can be reported a while after it started (it is grouped over its points): replay from that far back. */
const REPLAY_MARGIN_MS = 15 * 60_000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

const keyOf = (s: LiveSubscription) => `${s.projectId}/${s.siteId ?? '*'}/${s.metricId ?? '*'}`;
const covers = (s: LiveSubscription, m: { projectId: string; siteId?: string; metricId?: string }) =>
  s.projectId === m.projectId &&
  (s.siteId === undefined || s.siteId === m.siteId) &&
  (s.metricId === undefined || s.metricId === m.metricId);

interface Held {
  sub: LiveSubscription;
  listeners: Set<LiveListener>;
  /** The newest time this subscription has seen (an anomaly's start, a point's time, or when it began). */
  lastTime: number;
}

export class LiveFeedClient {
  private ws?: WebSocket;
  private readonly held = new Map<string, Held>();
  private attempt = 0;
  private retry?: ReturnType<typeof setTimeout>;
  private state: LiveStatus = 'connecting';

  constructor(private readonly url: () => string) {}

  get status(): LiveStatus {
    return this.state;
  }

  /** Starts listening to what the subscription covers; the returned function stops it. */
  subscribe(sub: LiveSubscription, listener: LiveListener): () => void {
    const key = keyOf(sub);
    let h = this.held.get(key);
    if (!h) {
      h = { sub, listeners: new Set(), lastTime: Date.now() };
      this.held.set(key, h);
      if (this.ws?.readyState === WebSocket.OPEN) this.sendSubscribe(h);
    }
    h.listeners.add(listener);
    listener.status?.(this.state);
    this.ensureConnected();
    return () => {
      const now = this.held.get(key);
      if (!now) return;
      now.listeners.delete(listener);
      if (now.listeners.size > 0) return;
      this.held.delete(key);
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: 'unsubscribe', ...sub }));
      if (this.held.size === 0) this.shutDown();
    };
  }

  private setStatus(status: LiveStatus) {
    this.state = status;
    for (const h of this.held.values()) for (const l of h.listeners) l.status?.(status);
  }

  private sendSubscribe(h: Held) {
    this.ws?.send(JSON.stringify({ type: 'subscribe', ...h.sub, since: Math.max(0, h.lastTime - REPLAY_MARGIN_MS) }));
  }

  private ensureConnected() {
    if (this.ws || this.retry || this.held.size === 0) return;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      for (const h of this.held.values()) this.sendSubscribe(h);
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      if (this.held.size === 0) return;
      this.setStatus('reconnecting');
      const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.ensureConnected();
      }, delay);
    };
  }

  private receive(data: unknown) {
    let m: { type?: string; [k: string]: unknown };
    try {
      m = JSON.parse(String(data));
    } catch {
      return;
    }
    if (m.type === 'subscribed') {
      // A subscription the server took: the connection works, the next loss starts from the shortest delay again.
      this.attempt = 0;
      if (this.state !== 'open') this.setStatus('open');
      return;
    }
    if (m.type === 'replay') {
      for (const anomaly of (m.anomalies as MetricAnomaly[]) ?? [])
        this.dispatch({ type: 'anomaly', projectId: anomaly.projectId, anomaly });
      return;
    }
    if (m.type === 'anomaly' || m.type === 'points') this.dispatch(m as unknown as LiveMessage);
    else if (m.type === 'error') console.warn(`live feed: ${String(m.code)}: ${String(m.message)}`);
  }

  private dispatch(m: LiveMessage) {
    const what = m.type === 'anomaly' ? m.anomaly : m;
    const time = m.type === 'anomaly' ? Date.parse(m.anomaly.start) : m.time[m.time.length - 1];
    for (const h of this.held.values()) {
      if (!covers(h.sub, what)) continue;
      if (Number.isFinite(time) && time > h.lastTime) h.lastTime = time;
      for (const l of h.listeners) l.message(m);
    }
  }

  private shutDown() {
    clearTimeout(this.retry);
    this.retry = undefined;
    const ws = this.ws;
    this.ws = undefined;
    ws?.close();
    this.attempt = 0;
    this.state = 'connecting';
  }
}

let client: LiveFeedClient | undefined;

/**
 * Where the feed is: `liveUrl` from /config.json when the deployment has one (API Gateway's WebSocket API), else
 * /ws on the API's origin (the local runtime serves both on one port).
 */
export function configureLive(o: { apiUrl: string; liveUrl?: string; apiKey: () => string | undefined }): void {
  client = new LiveFeedClient(() => {
    const base = o.liveUrl ?? `${(o.apiUrl || location.origin).replace(/^http/, 'ws')}/ws`;
    const url = new URL(base, location.href);
    const key = o.apiKey();
    if (key) url.searchParams.set('key', key);
    return url.toString();
  });
}

export function liveFeed(): LiveFeedClient {
  if (!client) throw new Error('configureLive() was not called');
  return client;
}
