/** Sends a message to one WebSocket connection of API Gateway's WebSocket API (its Management API in AWS). */
export interface LivePoster {
  /** False when the connection is gone (the client left without a $disconnect seen yet): its records are dropped. */
  post(connectionId: string, data: string): Promise<boolean>;
  /** Closes the connection (a client cut off for reading too slowly); nothing when it is gone already. */
  close(connectionId: string): Promise<void>;
}
