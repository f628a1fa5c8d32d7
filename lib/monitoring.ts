import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { jobTypeSchema } from '../functions/service/domain/job.ts';
import {
  type Dimension,
  METRIC_NAMESPACE,
  type MetricName,
  METRICS,
  SERVICE_NAME,
} from '../functions/service/telemetry/metric-catalog.ts';

/** Failed jobs in 5 minutes (any type) that call for a person: a permanent error or retries used up. */
export const FAILED_JOBS_ALARM = 1;

/** A metric of the service's own (telemetry/metric-catalog.ts), for one set of dimension values. */
const serviceMetric = (name: MetricName, dimensions: Record<string, string>, statistic: string) =>
  new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: SERVICE_NAME, ...dimensions },
    statistic,
    period: Duration.minutes(5),
  });

/** Every series of a metric, one per value of its dimension (a route, a project): a CloudWatch search. */
const everySeries = (name: MetricName, statistic: string) => {
  const dims = ['service', ...(METRICS[name].dimensions as readonly Dimension[])].join(',');
  const [dimension] = METRICS[name].dimensions as readonly Dimension[];
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRIC_NAMESPACE},${dims}} MetricName="${name}"', '${statistic}', 300)`,
    // CloudWatch's dynamic label: each series is named by its route, project, stage or job type.
    label: dimension ? `\${PROP('Dim.${dimension}')}` : name,
    period: Duration.minutes(5),
  });
};

export interface MonitoringProps {
  httpApi: HttpApi;
  functions: lambda.IFunction[];
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
  webhookDeadLetterQueue: sqs.Queue;
  /** The point stream's consumer and its failure queue. */
  points?: { consumer: lambda.IFunction; failures: sqs.IQueue };
}

/** How far behind the point stream's consumer may fall before a person is told (ms of the oldest record read). */
export const POINT_ITERATOR_AGE_ALARM_MS = 5 * 60 * 1000;

/** Alarms on what needs a person (dead letters, errors, throttles, a stuck queue) and a dashboard of the same. */
export class Monitoring extends Construct {
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const a = new cloudwatch.Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      this.alarms.push(a);
      return a;
    };
    // Visible and in flight: the workers' sweep holds dead letters for a moment while it marks their jobs FAILED.
    const deadLetters = new cloudwatch.MathExpression({
      expression: 'visible + inFlight',
      usingMetrics: {
        visible: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        inFlight: props.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
      },
      label: 'dead letters',
      period: Duration.minutes(5),
    });
    alarm(
      'DeadLetters',
      deadLetters,
      1,
      'Work failed past its retries: see the jobs marked FAILED, fix the cause, then redrive (npx faultline redrive, or POST /api/v1/dead-letters/redrive)',
    );
    alarm(
      'WebhookDeadLetters',
      props.webhookDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      1,
      'Webhook deliveries could not be recorded five times (table or queue trouble): see the delivery function’s logs; the messages keep 14 days',
    );
    alarm(
      'QueueAge',
      props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      1800,
      'Work has waited 30 minutes: workers are not starting or keeping up',
    );
    alarm(
      'Api5xx',
      props.httpApi.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      5,
      'The API answered with server errors',
    );
    props.functions.forEach((fn, i) => {
      alarm(
        `Errors${i}`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        5,
        `${fn.node.id}: invocation errors`,
      );
      alarm(
        `Throttles${i}`,
        fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        `${fn.node.id}: throttled invocations`,
      );
    });

    if (props.points) {
      const { consumer, failures } = props.points;
      alarm(
        'PointIteratorAge',
        consumer.metric('IteratorAge', { period: Duration.minutes(5), statistic: 'Maximum' }),
        POINT_ITERATOR_AGE_ALARM_MS,
        'Sensor points wait more than 5 minutes to be scored: the point consumer is failing or not keeping up (see its errors and logs)',
      );
      alarm(
        'PointConsumerErrors',
        consumer.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        1,
        'The point consumer failed batches: Lambda retries them (bisected); see its logs',
      );
      alarm(
        'PointFailures',
        failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        1,
        'Point batches failed past their retries: each message names a shard and sequence range; fix the cause and replay them from the stream (kept 7 days)',
      );
    }

    // Failed jobs of every type (the types are a fixed set, so the alarm can add them up; an alarm cannot search).
    const failedJobs = new cloudwatch.MathExpression({
      expression: jobTypeSchema.options.map((_, i) => `FILL(f${i}, 0)`).join(' + '),
      usingMetrics: Object.fromEntries(
        jobTypeSchema.options.map((type, i) => [`f${i}`, serviceMetric('JobsFailed', { JobType: type }, 'Sum')]),
      ),
      label: 'failed jobs',
      period: Duration.minutes(5),
    });
    alarm(
      'FailedJobs',
      failedJobs,
      FAILED_JOBS_ALARM,
      'Jobs ended FAILED (see GET /api/v1/jobs/{jobId} for the error, and the worker logs by its correlationId)',
    );

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: undefined });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests and errors',
        left: [props.httpApi.metricCount(), props.httpApi.metricClientError(), props.httpApi.metricServerError()],
      }),
      new cloudwatch.GraphWidget({
        title: 'API latency (p50, p95)',
        left: [props.httpApi.metricLatency({ statistic: 'p50' }), props.httpApi.metricLatency({ statistic: 'p95' })],
      }),
      new cloudwatch.GraphWidget({
        title: 'Work queue',
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible(),
          props.queue.metricApproximateAgeOfOldestMessage(),
        ],
        right: [deadLetters],
      }),
      new cloudwatch.GraphWidget({
        title: 'Functions: duration p95',
        left: props.functions.map((fn) => fn.metricDuration({ statistic: 'p95' })),
      }),
    );
    // The service's own metrics (Powertools EMF; README, Telemetry).
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Latency p95 per route (ms)',
        left: [everySeries('RequestLatency', 'p95')],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Anomaly rate per project',
        left: [everySeries('Anomalous', 'Average')],
        leftYAxis: { min: 0, max: 1 },
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Failed jobs', left: [failedJobs], width: 6 }),
      new cloudwatch.GraphWidget({
        title: 'Detections per project',
        left: [everySeries('Detections', 'Sum')],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Engine stage latency p95 (ms)',
        left: [everySeries('StageLatency', 'p95')],
        width: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queue wait p95 (ms), training time (s)',
        left: [everySeries('QueueWait', 'p95')],
        right: [serviceMetric('TrainingTime', {}, 'Maximum')],
        width: 6,
      }),
    );
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
