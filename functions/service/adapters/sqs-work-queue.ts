import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueueMessage, WorkQueue } from '../ports/work-queue.ts';
import { currentTelemetry, type TelemetryContext } from '../telemetry/context.ts';

/** The message attributes that carry the sender's request and correlation ids (telemetry/context.ts) to the receiver. */
const CARRIED = ['correlationId', 'requestId'] as const satisfies (keyof TelemetryContext)[];

/** A queue on SQS (AWS, or fauxqs locally). */
export class SqsWorkQueue implements WorkQueue {
  constructor(
    private readonly client: SQSClient,
    readonly url: string,
  ) {}

  async send(body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    const context = currentTelemetry();
    const attributes = Object.fromEntries(
      CARRIED.flatMap((name) => (context[name] ? [[name, { DataType: 'String', StringValue: context[name] }]] : [])),
    );
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.url,
        MessageBody: JSON.stringify(body),
        DelaySeconds: options.delaySeconds,
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
      }),
    );
  }

  async receive(o: Parameters<WorkQueue['receive']>[0]): Promise<QueueMessage[]> {
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.url,
        MaxNumberOfMessages: o.max,
        WaitTimeSeconds: o.waitSeconds,
        VisibilityTimeout: o.visibilitySeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        MessageAttributeNames: [...CARRIED],
      }),
      { abortSignal: o.signal },
    );
    return (out.Messages ?? []).map((m) => ({
      id: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
      telemetry: Object.fromEntries(
        CARRIED.flatMap((name) => {
          const value = m.MessageAttributes?.[name]?.StringValue;
          return value ? [[name, value]] : [];
        }),
      ),
    }));
  }

  async delete(message: QueueMessage): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.url, ReceiptHandle: message.receiptHandle }));
  }

  async extendVisibility(message: QueueMessage, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.url,
        ReceiptHandle: message.receiptHandle,
        VisibilityTimeout: seconds,
      }),
    );
  }
}
