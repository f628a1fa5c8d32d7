import { services } from '../service/adapters/aws-services.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { archiveOldPoints } from '../service/sensors/point-archive.ts';

/**
 * The archive job in AWS: an EventBridge schedule invokes it (lib/point-consumer.ts) to move sensor points older than
 * FAULTLINE_POINT_ARCHIVE_AFTER_DAYS from the table to S3. Safe to run twice or to die midway (see point-archive.ts).
 */
export const handler = withLambdaTelemetry(archive);

async function archive(): Promise<{ ran: boolean; metrics: number; days: number; points: number }> {
  return archiveOldPoints(services());
}
