import type { EventBridgeEvent } from 'aws-lambda';
import { services } from '../service/adapters/aws-services.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { sweepDeadLetters } from '../service/jobs/dead-letters.ts';

interface BatchJobDetail {
  jobName: string;
  jobId: string;
  status: string;
  statusReason?: string;
}

/**
 * AWS Batch job state changes (EventBridge): when a worker container stops, work it held comes back on the queue or,
 * past the retry limit, sits in the dead-letter queue; the jobs of the latter are marked FAILED here, with the
 * container's reason, even when no worker is left running to notice.
 */
export const handler = withLambdaTelemetry(onWorkerStopped);

async function onWorkerStopped(event: EventBridgeEvent<'Batch Job State Change', BatchJobDetail>): Promise<void> {
  const s = services();
  s.log({
    msg: 'batch worker stopped',
    jobName: event.detail.jobName,
    status: event.detail.status,
    reason: event.detail.statusReason,
  });
  await sweepDeadLetters(s);
}
