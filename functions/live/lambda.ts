import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { livePoster } from '../service/adapters/api-gateway-live-poster.ts';
import { services } from '../service/adapters/aws-services.ts';
import { fromAuthorizerContext } from '../service/auth/principal.ts';
import type { LiveServerMessage } from '../service/live/live-messages.ts';
import { handleLiveMessage } from '../service/live/live-session.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';

/** API Gateway closes a WebSocket connection after two hours; its records outlive that a little (TTL). */
export const MAX_CONNECTION_MS = 2 * 3_600_000;
const RECORD_GRACE_MS = 10 * 60_000;

/** The event of each route; $connect's carries the authorizer's context, the others the message body. */
export type LiveSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2['requestContext'] & { authorizer?: Record<string, unknown> };
};

/**
 * The WebSocket API's routes in AWS ($connect, $disconnect, $default), a thin adapter like the local socket
 * (functions/local/gateway/live-socket.ts): the authorizer signed the caller in; $connect records who it is,
 * messages go to the same service code as locally (service/live/live-session.ts) with the connection's
 * subscriptions in the table, and replies are posted back through the Management API.
 */
export const handler = withLambdaTelemetry(connection);

async function connection(event: LiveSocketEvent): Promise<APIGatewayProxyResultV2> {
  const s = services();
  const { eventType, connectionId } = event.requestContext;
  if (eventType === 'CONNECT') {
    const principal = fromAuthorizerContext(event.requestContext.authorizer);
    // The authorizer admits no one without a principal: a connection without one is refused all the same.
    if (!principal) return { statusCode: 401 };
    const now = Date.now();
    await s.liveConnections.connect(
      { connectionId, principal, connectedAt: new Date(now).toISOString() },
      new Date(now + MAX_CONNECTION_MS + RECORD_GRACE_MS),
    );
    return { statusCode: 200 };
  }
  if (eventType === 'DISCONNECT') {
    await s.liveConnections.disconnect(connectionId);
    return { statusCode: 200 };
  }
  const poster = livePoster(s.config);
  if (!poster) throw new Error('FAULTLINE_LIVE_ENDPOINT is not set: the live feed cannot answer');
  const send = async (message: LiveServerMessage) => {
    if (!(await poster.post(connectionId, JSON.stringify(message)))) await s.liveConnections.disconnect(connectionId);
  };
  const connection = await s.liveConnections.getConnection(connectionId);
  if (!connection) {
    await send({ type: 'error', code: 'UNAUTHORIZED', message: 'this connection is not known: connect again' });
    return { statusCode: 200 };
  }
  const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  try {
    await handleLiveMessage(
      s,
      connection.principal,
      {
        add: async (key, subscription, max) =>
          (await s.liveConnections.subscribe(connectionId, key, subscription, max)) === 'added',
        remove: (key) => s.liveConnections.unsubscribe(connectionId, key),
      },
      body,
      send,
    );
  } catch (error) {
    s.log({ level: 'error', msg: 'live message failed', connectionId, error: String(error) });
    await send({ type: 'error', code: 'INTERNAL', message: 'the message could not be handled; try again' });
  }
  return { statusCode: 200 };
}
