/** The queue that carries work to the workers: SQS in AWS and locally (fauxqs), with a dead-letter queue. */
export interface QueueMessage {
  id: string;
  receiptHandle: string;
  body: string;
  /** How many times it has been received, this time included. */
  receiveCount: number;
}

export interface WorkQueue {
  send(body: unknown): Promise<void>;
  receive(options: { max: number; waitSeconds: number; visibilitySeconds?: number }): Promise<QueueMessage[]>;
  delete(message: QueueMessage): Promise<void>;
  /** Keeps a message hidden from other workers while it is being worked on. */
  extendVisibility(message: QueueMessage, seconds: number): Promise<void>;
}
