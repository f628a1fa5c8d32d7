import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { services } from '../service/adapters/aws-services.ts';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { handleWebhookMessage } from '../service/webhooks/webhook-deliveries-service.ts';

/**
 * The webhook delivery function (bundled by the CDK app), fed by the webhook queue: each message is one attempt,
 * made concurrently within the batch. A message whose attempt could not be recorded is reported as failed, so that
 * only it comes back (and, past the receive limit, moves to the webhook dead-letter queue).
 */
export const handler = withLambdaTelemetry(deliver);

async function deliver(event: SQSEvent): Promise<SQSBatchResponse> {
  const s = services();
  const settled = await Promise.allSettled(event.Records.map((r) => handleWebhookMessage(s, r.body)));
  const batchItemFailures = settled.flatMap((result, i) => {
    if (result.status === 'fulfilled') return [];
    s.log({
      level: 'error',
      msg: 'webhook delivery failed; the message will come back',
      messageId: event.Records[i]!.messageId,
      error: (result.reason as Error).message,
    });
    return [{ itemIdentifier: event.Records[i]!.messageId }];
  });
  return { batchItemFailures };
}
