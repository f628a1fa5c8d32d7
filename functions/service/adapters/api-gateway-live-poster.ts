import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import type { LivePoster } from '../ports/live-poster.ts';
import type { ServiceConfig } from '../config.ts';
import { SDK_CLIENT_DEFAULTS } from './sdk-client-defaults.ts';

/** Posts through API Gateway's Management API (https://{api}.execute-api.{region}.amazonaws.com/{stage}). */
export class ApiGatewayLivePoster implements LivePoster {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  static at(endpoint: string, region: string): ApiGatewayLivePoster {
    return new ApiGatewayLivePoster(new ApiGatewayManagementApiClient({ ...SDK_CLIENT_DEFAULTS, endpoint, region }));
  }

  async post(connectionId: string, data: string): Promise<boolean> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(data) }));
      return true;
    } catch (error) {
      // 410: the client left (API Gateway has not told us through $disconnect yet, or never will).
      if ((error as { name?: string }).name === 'GoneException') return false;
      throw error;
    }
  }

  async close(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (error) {
      if ((error as { name?: string }).name !== 'GoneException') throw error;
    }
  }
}

let cached: { endpoint: string; poster: ApiGatewayLivePoster } | undefined;

/** The process's poster for the configured endpoint (FAULTLINE_LIVE_ENDPOINT); undefined when none is set. */
export function livePoster(
  config: Pick<ServiceConfig, 'FAULTLINE_LIVE_ENDPOINT' | 'AWS_REGION'>,
): LivePoster | undefined {
  const endpoint = config.FAULTLINE_LIVE_ENDPOINT;
  if (!endpoint) return undefined;
  if (cached?.endpoint !== endpoint)
    cached = { endpoint, poster: ApiGatewayLivePoster.at(endpoint, config.AWS_REGION) };
  return cached.poster;
}
