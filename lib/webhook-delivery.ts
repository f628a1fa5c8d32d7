import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { serviceEnvironment } from './data-plane.ts';
import { type Messaging, WEBHOOK_FUNCTION_TIMEOUT_SECONDS } from './messaging.ts';
import { NodeFunction } from './node-function.ts';
import type { Storage } from './storage.ts';

export interface WebhookDeliveryProps {
  /** The service's modules load the engine's (onnxruntime-node, sharp), as the sweeper's do. */
  layer: lambda.ILayerVersion;
  storage: Storage;
  messaging: Messaging;
  /** Deliveries in flight at once, account-wide: what a flood of events may cost. */
  maxConcurrency: number;
}

/**
 * Webhook delivery: a function fed by the webhook queue posts each event to its project's webhook (signed, public
 * addresses only), records the attempt in the table, and queues a failed one again with a delay. Not in the VPC:
 * subscribers are on the internet, and nothing of the VPC is reachable from here.
 */
export class WebhookDelivery extends Construct {
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: WebhookDeliveryProps) {
    super(scope, id);
    const { storage, messaging } = props;
    this.function = new NodeFunction(this, 'Function', {
      entry: 'webhooks/lambda.ts',
      layer: props.layer,
      memorySize: 256,
      timeout: Duration.seconds(WEBHOOK_FUNCTION_TIMEOUT_SECONDS),
      description: 'Faultline webhooks: posts queued events to project webhooks, with retries',
      // The work queue only because the service's settings require one: this function never touches it.
      environment: serviceEnvironment({
        table: storage.table,
        queue: messaging.queue,
        webhookQueue: messaging.webhookQueue,
      }),
      logGroupId: 'Logs',
    });
    storage.grantTable(this.function);
    // retries go back on the queue, delayed
    messaging.grantSendWebhooks(this.function);
    this.function.addEventSource(
      new SqsEventSource(messaging.webhookQueue, {
        batchSize: 10,
        maxConcurrency: props.maxConcurrency,
        reportBatchItemFailures: true,
      }),
    );
  }
}
