import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { WEBHOOK_FUNCTION_TIMEOUT_SECONDS } from './messaging.ts';

const root = join(import.meta.dirname, '..');

export interface WebhookDeliveryProps {
  /** The service's modules load the engine's (onnxruntime-node, sharp), as the sweeper's do. */
  layer: lambda.ILayerVersion;
  table: dynamodb.TableV2;
  /** The API's work queue (the service's settings name it; this function never touches it). */
  workQueue: sqs.Queue;
  webhookQueue: sqs.Queue;
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
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(root, 'functions', 'webhooks', 'lambda.ts'),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.X86_64,
      layers: [props.layer],
      memorySize: 256,
      timeout: Duration.seconds(WEBHOOK_FUNCTION_TIMEOUT_SECONDS),
      description: 'Faultline webhooks: posts queued events to project webhooks, with retries',
      environment: {
        FAULTLINE_TABLE: props.table.tableName,
        FAULTLINE_QUEUE_URL: props.workQueue.queueUrl,
        FAULTLINE_WEBHOOK_QUEUE_URL: props.webhookQueue.queueUrl,
        FAULTLINE_PROJECT_ROOT: '/var/task',
        FAULTLINE_CACHE_DIR: '/tmp/faultline-cache',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      bundling: { format: OutputFormat.ESM, target: 'node22', minify: true, externalModules: ['onnxruntime-node', 'sharp'], banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    });
    props.table.grantReadWriteData(this.function);
    // retries go back on the queue, delayed
    props.webhookQueue.grantSendMessages(this.function);
    this.function.addEventSource(new SqsEventSource(props.webhookQueue, { batchSize: 10, maxConcurrency: props.maxConcurrency, reportBatchItemFailures: true }));
  }
}
