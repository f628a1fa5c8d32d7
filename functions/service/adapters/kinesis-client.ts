import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SDK_CLIENT_DEFAULTS } from './sdk-client-defaults.ts';

/**
 * A Kinesis client; with an endpoint (kinesalite locally), over HTTP/1.1: the SDK's default for Kinesis is HTTP/2
 * (for SubscribeToShard), which kinesalite does not speak.
 */
export function kinesisClient(config: KinesisClientConfig & { endpoint?: string }): KinesisClient {
  const settings = { ...SDK_CLIENT_DEFAULTS, ...config };
  return new KinesisClient(
    config.endpoint ? { ...settings, requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000 }) } : settings,
  );
}
