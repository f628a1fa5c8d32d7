import { Counter, Histogram, Registry, Summary } from 'prom-client';
import type { MetricsSink } from '../service/ports/metrics.ts';
import { type Dimension, type MetricName, METRICS } from '../service/telemetry/metric-catalog.ts';

/** Prometheus's naming: snake case, the unit as a suffix, counters ending in _total. */
const snake = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const LABEL: Record<Dimension, string> = {
  ProjectId: 'project_id',
  Route: 'route',
  Stage: 'stage',
  JobType: 'job_type',
};
const SUFFIX = { Count: '', Milliseconds: '_milliseconds', Seconds: '_seconds', None: '' } as const;

/** Milliseconds from a sub-millisecond stage to a slow request; seconds from a small training to an hour's. */
const BUCKETS = {
  Milliseconds: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000],
  Seconds: [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
};

export interface PrometheusMetrics {
  sink: MetricsSink;
  /** The registry's text exposition format (what GET /metrics answers). */
  text(): Promise<string>;
  contentType: string;
}

/**
 * The service's metrics (telemetry/metric-catalog.ts) for a Prometheus scraper: counts as counters, timings as
 * histograms, the anomaly ratio as a summary (its _sum over _count is the rate), the catalogue's dimensions as labels.
 * A registry of its own per runtime (two runtimes in one process share nothing).
 */
export function prometheusMetrics(): PrometheusMetrics {
  const registry = new Registry();
  const instruments = Object.fromEntries(
    Object.entries(METRICS).map(([name, spec]) => {
      const labelNames = spec.dimensions.map((d) => LABEL[d]);
      const base = `faultline_${snake(name)}${SUFFIX[spec.unit]}`;
      const common = { help: spec.help, labelNames, registers: [registry] };
      if (spec.kind === 'count') {
        const c = new Counter({ name: `${base}_total`, ...common });
        return [name, (v: number, l: Record<string, string>) => c.inc(l, v)];
      }
      if (spec.kind === 'ratio') {
        const s = new Summary({ name: base, percentiles: [], ...common });
        return [name, (v: number, l: Record<string, string>) => s.observe(l, v)];
      }
      const h = new Histogram({ name: base, buckets: BUCKETS[spec.unit as keyof typeof BUCKETS], ...common });
      return [name, (v: number, l: Record<string, string>) => h.observe(l, v)];
    }),
  ) as Record<MetricName, (value: number, labels: Record<string, string>) => void>;
  return {
    sink: {
      record: (name, value, dimensions) =>
        instruments[name](
          value,
          Object.fromEntries(Object.entries(dimensions).map(([k, v]) => [LABEL[k as Dimension], String(v)])),
        ),
    },
    text: () => registry.metrics(),
    contentType: registry.contentType,
  };
}
