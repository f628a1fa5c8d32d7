import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * A Kinesis client; with an endpoint (kinesalite locally), over HTTP/1.1: the SDK's default for Kinesis is HTTP/2
 * (for SubscribeToShard), which kinesalite does not speak.
 */
export function kinesisClient(config: KinesisClientConfig & { endpoint?: string }): KinesisClient {
  return new KinesisClient(
    config.endpoint ? { ...config, requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000 }) } : config,
  );
}
