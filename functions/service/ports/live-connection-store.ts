import type { Principal } from '../auth/principal.ts';
import type { Subscription } from '../live/live-messages.ts';

/** A WebSocket connection of API Gateway's WebSocket API, as recorded at $connect. */
export interface LiveConnectionRecord {
  connectionId: string;
  principal: Principal;
  connectedAt: string;
}

/** One subscription of one connection, as the fan-out finds it. */
export interface LiveSubscriber {
  connectionId: string;
  subscription: Subscription;
}

/**
 * The live feed's connections and subscriptions in AWS, where each message is handled by whichever Lambda instance
 * gets it (locally they live in the process: service/live/live-feed.ts). Records expire (TTL) after the longest a
 * connection can live, so that a connection whose $disconnect never ran leaves nothing for long.
 */
export interface LiveConnectionStore {
  connect(connection: LiveConnectionRecord, expiresAt: Date): Promise<void>;
  getConnection(connectionId: string): Promise<LiveConnectionRecord | undefined>;
  /**
   * Adds the subscription (held again: no change). 'full' when the connection holds `max` others, 'gone' when the
   * connection is not recorded (disconnected meanwhile). Conditional, so parallel messages never pass the limit.
   */
  subscribe(
    connectionId: string,
    key: string,
    subscription: Subscription,
    max: number,
  ): Promise<'added' | 'full' | 'gone'>;
  unsubscribe(connectionId: string, key: string): Promise<void>;
  /** The connection's record and all its subscriptions removed. */
  disconnect(connectionId: string): Promise<void>;
  /** Every subscription to the project, of every connection. */
  subscribersOf(projectId: string): Promise<LiveSubscriber[]>;
}
