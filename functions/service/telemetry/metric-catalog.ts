/**
 * Every metric the service emits: its unit, what it measures and its dimensions. One owner: the EMF adapter
 * (CloudWatch), the Prometheus adapter (local /metrics) and the dashboard (lib/monitoring.ts) all read it.
 *
 * The dimension rule: a dimension's values must come from a bounded set that the operator controls. A route is its
 * template (GET /api/v1/projects/{projectId}), never the path; a stage is one of the engine's stages; a job type is
 * one of the job types. The project id is a dimension only of the per-detection counts (Detections, Anomalies,
 * Anomalous), where a per-project view is what a person asks for and a project is a deliberate, admin-made thing (one
 * CloudWatch metric per project and name); it never goes on latencies, which would multiply by routes or stages.
 */
export const METRIC_NAMESPACE = 'Faultline';
/** Powertools' service name: the `service` field of every log line and a dimension of every metric. */
export const SERVICE_NAME = 'faultline';

/**
 * Powertools' settings of every function and the worker (the CDK app sets them; change them on a function to debug
 * it): INFO lines, one invocation or message in a hundred logged at DEBUG.
 */
export const TELEMETRY_ENVIRONMENT = {
  POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
  POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
  POWERTOOLS_LOG_LEVEL: 'INFO',
  POWERTOOLS_LOGGER_SAMPLE_RATE: '0.01',
};

export type MetricUnit = 'Count' | 'Milliseconds' | 'Seconds' | 'None';
export type Dimension = 'ProjectId' | 'Route' | 'Stage' | 'JobType';

export interface MetricSpec {
  unit: MetricUnit;
  /** 'count' adds up; 'timing' is a distribution (percentiles in CloudWatch, a histogram in Prometheus). */
  kind: 'count' | 'timing' | 'ratio';
  dimensions: readonly Dimension[];
  help: string;
}

export const METRICS = {
  Detections: {
    unit: 'Count',
    kind: 'count',
    dimensions: ['ProjectId'],
    help: 'Images scored by an anomaly model (API and drop folder)',
  },
  Anomalies: {
    unit: 'Count',
    kind: 'count',
    dimensions: ['ProjectId'],
    help: 'Detections judged anomalous',
  },
  Anomalous: {
    unit: 'None',
    kind: 'ratio',
    dimensions: ['ProjectId'],
    help: '1 per anomalous detection, 0 per normal one: its average is the anomaly rate',
  },
  StageLatency: {
    unit: 'Milliseconds',
    kind: 'timing',
    dimensions: ['Stage'],
    help: "Time in one of the engine's stages per detected image (its timings_ms)",
  },
  RequestLatency: {
    unit: 'Milliseconds',
    kind: 'timing',
    dimensions: ['Route'],
    help: 'Time the API handler took, per route template',
  },
  QueueWait: {
    unit: 'Milliseconds',
    kind: 'timing',
    dimensions: ['JobType'],
    help: 'From a job being created to a worker starting it',
  },
  TrainingTime: {
    unit: 'Seconds',
    kind: 'timing',
    dimensions: [],
    help: 'A training job from start to its model version',
  },
  JobsFailed: {
    unit: 'Count',
    kind: 'count',
    dimensions: ['JobType'],
    help: 'Jobs ended FAILED (a permanent error, or out of retries)',
  },
} as const satisfies Record<string, MetricSpec>;

export type MetricName = keyof typeof METRICS;

/** The dimensions a metric takes, by its catalogue entry: a missing or extra one is a type error. */
export type MetricDimensions<N extends MetricName> = Record<(typeof METRICS)[N]['dimensions'][number], string>;
