import type { EventBridgeEvent } from 'aws-lambda';
import { livePoster } from '../service/adapters/api-gateway-live-poster.ts';
import { services } from '../service/adapters/aws-services.ts';
import type { EventType } from '../service/ports/event-publisher.ts';
import { fanOut } from '../service/live/live-fan-out.ts';
import { deliveryOfEvent } from '../service/live/live-routing.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';

/**
 * The live feed's events in AWS: a rule on the event bus hands it every Metric Anomaly and Detection Completed
 * (lib/live-feed.ts), whichever function published it (the stream consumer, the API, the workers), and it posts them to
 * the subscribed connections. The bus event is the service's event again (its detail as published, with the project
 * id and, for an event published at least once, its id beside it: adapters/event-publishers.ts).
 */
export const handler = withLambdaTelemetry(fanOutEvent);

async function fanOutEvent(event: EventBridgeEvent<string, Record<string, unknown>>): Promise<void> {
  const s = services();
  const poster = livePoster(s.config);
  if (!poster) throw new Error('FAULTLINE_LIVE_ENDPOINT is not set: the live feed cannot post');
  const { eventId, ...detail } = event.detail;
  const delivery = deliveryOfEvent({
    type: event['detail-type'] as EventType,
    projectId: String(detail.projectId),
    ...(typeof eventId === 'string' ? { id: eventId } : {}),
    detail,
  });
  if (!delivery) return;
  const outcome = await fanOut(s, poster, [delivery]);
  s.log({ msg: 'live event posted', type: event['detail-type'], ...outcome });
}
