import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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
    dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}
