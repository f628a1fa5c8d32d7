/**
 * What one client of the live feed may be sent, the same locally (functions/local/gateway/live-socket.ts, LiveFeed)
 * and in AWS (live-fan-out.ts, the point consumer's batching window in lib/point-consumer.ts).
 */

/** Points of one metric reach a client at most once per interval, in one message with the points since the last. */
export const POINTS_INTERVAL_MS = 1000;

/**
 * Above this much data unsent to a client (locally: the socket's buffer; in AWS: posted to the connection in one
 * fan-out), its points are dropped (a client that misses some asks again with `since`); other messages still go.
 */
export const LOSSY_BUFFER_BYTES = 1024 * 1024;

/** Above this much, the client is cut off as reading too slowly: it reconnects and subscribes with `since`. */
export const MAX_BUFFER_BYTES = 16 * 1024 * 1024;

/** In AWS, posts to one connection that fail (throttled, or API Gateway's error) before it is cut off. */
export const MAX_FAILED_POSTS = 3;
