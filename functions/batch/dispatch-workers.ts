import { BatchClient, ListJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { withLambdaTelemetry } from '../service/adapters/lambda-telemetry.ts';
import { powertools } from '../service/adapters/powertools.ts';
import { SDK_CLIENT_DEFAULTS } from '../service/adapters/sdk-client-defaults.ts';
import { jsonLog } from '../service/log.ts';

const env = z
  .object({
    FAULTLINE_QUEUE_URL: z.url(),
    FAULTLINE_JOB_QUEUE: z.string().min(1),
    FAULTLINE_JOB_DEFINITION: z.string().min(1),
    FAULTLINE_MAX_WORKERS: z.coerce.number().int().positive().default(2),
    FAULTLINE_MESSAGES_PER_WORKER: z.coerce.number().int().positive().default(200),
  })
  .parse(process.env);

const sqs = powertools().tracer.captureAWSv3Client(new SQSClient({ ...SDK_CLIENT_DEFAULTS }));
const batch = powertools().tracer.captureAWSv3Client(new BatchClient({ ...SDK_CLIENT_DEFAULTS }));

/**
 * Runs every minute (EventBridge schedule): starts GPU workers on AWS Batch when the work queue has messages, one per
 * FAULTLINE_MESSAGES_PER_WORKER waiting, at most FAULTLINE_MAX_WORKERS at once. Workers exit when the queue has been
 * idle for a while, so the compute environment scales back to zero.
 */
export const handler = withLambdaTelemetry(dispatch);

async function dispatch(): Promise<{ waiting: number; active: number; started: number }> {
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: env.FAULTLINE_QUEUE_URL,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const waiting = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? 0);
  if (waiting === 0) return { waiting, active: 0, started: 0 };
  let active = 0;
  for (const status of ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'] as const) {
    const jobs = await batch.send(
      new ListJobsCommand({
        jobQueue: env.FAULTLINE_JOB_QUEUE,
        jobStatus: status,
        filters: [{ name: 'JOB_NAME', values: ['faultline-worker*'] }],
      }),
    );
    active += jobs.jobSummaryList?.length ?? 0;
  }
  const wanted = Math.min(env.FAULTLINE_MAX_WORKERS, Math.ceil(waiting / env.FAULTLINE_MESSAGES_PER_WORKER));
  let started = 0;
  for (; active + started < wanted; started++) {
    await batch.send(
      new SubmitJobCommand({
        jobName: `faultline-worker-${Date.now()}-${started}`,
        jobQueue: env.FAULTLINE_JOB_QUEUE,
        jobDefinition: env.FAULTLINE_JOB_DEFINITION,
      }),
    );
  }
  jsonLog({ msg: 'dispatch', waiting, active, started });
  return { waiting, active, started };
}
