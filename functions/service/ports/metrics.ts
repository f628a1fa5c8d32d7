import type { MetricDimensions, MetricName } from '../telemetry/metric-catalog.ts';

/** Where the service's metrics go: CloudWatch (embedded metric format on stdout) in AWS; that and Prometheus locally. */
export interface MetricsSink {
  record<N extends MetricName>(name: N, value: number, dimensions: MetricDimensions<N>): void;
}

export const noMetrics: MetricsSink = { record: () => {} };

/** Every record goes to each sink. */
export const fanOutMetrics = (...sinks: MetricsSink[]): MetricsSink => ({
  record: (name, value, dimensions) => {
    for (const sink of sinks) sink.record(name, value, dimensions);
  },
});
