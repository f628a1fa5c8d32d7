import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from '@aws-lambda-powertools/logger/types';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Log } from '../log.ts';
import type { MetricsSink } from '../ports/metrics.ts';
import { currentTelemetry } from '../telemetry/context.ts';
import { METRIC_NAMESPACE, METRICS, SERVICE_NAME } from '../telemetry/metric-catalog.ts';

/**
 * AWS Lambda Powertools for the whole service: one Logger (structured JSON), one Metrics (CloudWatch embedded metric
 * format) and one Tracer (X-Ray) per process. Their settings are Powertools' own environment variables, the ones AWS
 * users already set: POWERTOOLS_LOG_LEVEL (or Lambda's AWS_LAMBDA_LOG_LEVEL), POWERTOOLS_LOGGER_SAMPLE_RATE (the share
 * of invocations, or worker messages, logged at DEBUG), POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE,
 * POWERTOOLS_METRICS_DISABLED, POWERTOOLS_TRACE_DISABLED.
 */
const serviceName = () => process.env.POWERTOOLS_SERVICE_NAME || SERVICE_NAME;

export interface LoggerOptions {
  /** Else POWERTOOLS_LOG_LEVEL, else INFO. */
  level?: LogLevel;
  /** Else POWERTOOLS_LOGGER_SAMPLE_RATE, else 0. */
  sampleRate?: number;
}

export const createLogger = (o: LoggerOptions = {}): Logger =>
  new Logger({
    serviceName: serviceName(),
    ...(o.level ? { logLevel: o.level } : {}),
    ...(o.sampleRate !== undefined ? { sampleRateValue: o.sampleRate } : {}),
  });

const METHOD = { debug: 'debug', info: 'info', warn: 'warn', error: 'error', critical: 'critical' } as const;

/**
 * The service's Log port on a Powertools Logger: `msg` becomes the line's message, `level` picks the method, the rest
 * are fields, and the current request and correlation ids (telemetry/context.ts) are added to every line.
 */
export function powertoolsLog(logger: Logger): Log {
  return (line) => {
    const { level, msg, ...fields } = line;
    const method = METHOD[String(level ?? 'info').toLowerCase() as keyof typeof METHOD] ?? 'info';
    logger[method](typeof msg === 'string' ? msg : 'log', { ...currentTelemetry(), ...fields });
  };
}

/**
 * Where Powertools' Tracer would record (its own rule: in an AWS execution environment, not SAM local or Amplify's
 * mock, POWERTOOLS_TRACE_ENABLED not false). Only there is the X-Ray SDK loaded: importing it installs an async_hooks
 * destroy hook (cls-hooked) that every promise in the process then pays for, about 1.6x the cost of an awaited promise
 * (300,000 in 1.0 s without it, 1.6 s with it), whether or not anything is traced; the local runtime, the CLI and the
 * tests never trace.
 */
const tracingWanted = (env: NodeJS.ProcessEnv = process.env): boolean =>
  Boolean(env.AWS_EXECUTION_ENV) &&
  env.AWS_EXECUTION_ENV !== 'AWS_Lambda_amplify-mock' &&
  !env.AWS_SAM_LOCAL &&
  env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false';

const TracerClass = tracingWanted() ? (await import('@aws-lambda-powertools/tracer')).Tracer : undefined;

/** What the service uses of the Tracer; where nothing is traced, a stand-in that passes everything through. */
export type Tracing = Pick<Tracer, 'captureAWSv3Client' | 'isTracingEnabled' | 'getSegment' | 'setSegment'> & {
  /** The Powertools Tracer itself, for its middy middleware; undefined where nothing is traced. */
  readonly powertools?: Tracer;
};

const untraced: Tracing = {
  captureAWSv3Client: (client) => client,
  isTracingEnabled: () => false,
  getSegment: () => undefined,
  setSegment: () => undefined,
};

const xray = (tracer: Tracer): Tracing => ({
  captureAWSv3Client: (client) => tracer.captureAWSv3Client(client),
  isTracingEnabled: () => tracer.isTracingEnabled(),
  getSegment: () => tracer.getSegment(),
  setSegment: (segment) => tracer.setSegment(segment),
  powertools: tracer,
});

let shared: { logger: Logger; metrics: Metrics; tracer: Tracing } | undefined;

/** The process's Powertools instances, made on first use (after the settings are in the environment). */
export function powertools(): { logger: Logger; metrics: Metrics; tracer: Tracing } {
  shared ??= {
    logger: createLogger(),
    metrics: new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRIC_NAMESPACE,
      serviceName: serviceName(),
    }),
    tracer: TracerClass ? xray(new TracerClass({ serviceName: serviceName() })) : untraced,
  };
  return shared;
}

const UNIT = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  Seconds: MetricUnit.Seconds,
  None: MetricUnit.NoUnit,
} as const;

/**
 * Metrics as CloudWatch embedded metric format lines on stdout: each record is published at once as a single metric
 * with its own dimensions (a worker runs for hours, and records of one invocation differ in dimensions), so nothing
 * waits for a flush and nothing is lost when a process stops.
 */
export function emfMetrics(metrics: Metrics = powertools().metrics): MetricsSink {
  return {
    record: (name, value, dimensions) => {
      const single = metrics.singleMetric();
      for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, String(v));
      single.addMetric(name, UNIT[METRICS[name].unit], value);
    },
  };
}

/**
 * Runs an engine stage or a use case's step in its own X-Ray subsegment (where tracing is on: in Lambda), with what it
 * returns left as it is; elsewhere it just runs.
 */
export async function traced<T>(name: string, work: () => Promise<T>, metadata?: (result: T) => object): Promise<T> {
  const { tracer } = powertools();
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (!parent) return work();
  const sub = parent.addNewSubsegment(name);
  tracer.setSegment(sub);
  try {
    const result = await work();
    if (metadata) sub.addMetadata('result', metadata(result), 'faultline');
    return result;
  } catch (error) {
    sub.addError(error as Error);
    throw error;
  } finally {
    sub.close();
    tracer.setSegment(parent);
  }
}
