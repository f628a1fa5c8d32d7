import type { TelemetryContext } from '../telemetry/context.ts';

/** A queue that carries work (to the workers, or webhook deliveries): SQS in AWS and locally (fauxqs), with a dead-letter queue. */
export interface QueueMessage {
  id: string;
  receiptHandle: string;
  body: string;
  /** How many times it has been received, this time included. */
  receiveCount: number;
  /** The sender's request and correlation ids, carried as message attributes (none on S3's notifications). */
  telemetry?: TelemetryContext;
}

export interface WorkQueue {
  /** delaySeconds (up to 900) holds the message back before anyone can receive it: retries with backoff. */
  send(body: unknown, options?: { delaySeconds?: number }): Promise<void>;
  /**
   * `signal` cuts a long poll short (a stopping worker): the call then rejects. A message the queue handed out just
   * then is not lost: it comes back after its visibility timeout.
   */
  receive(options: {
    max: number;
    waitSeconds: number;
    visibilitySeconds?: number;
    signal?: AbortSignal;
  }): Promise<QueueMessage[]>;
  delete(message: QueueMessage): Promise<void>;
  /** Keeps a message hidden from other workers while it is being worked on. */
  extendVisibility(message: QueueMessage, seconds: number): Promise<void>;
}
