import { useState } from 'preact/hooks';
import { api, call } from '../api/client.ts';
import type { MetricAnomaly } from '../api/sensors.ts';
import { formatPercent, formatTime } from '../format.ts';
import { Link } from '../router.tsx';
import { ErrorNotice } from './status.tsx';
import { SeverityBadge } from './severity-badge.tsx';

const number = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));

/**
 * Anomalies as a table with their metric (named through `names`), what was seen against what was expected, and an
 * Acknowledge button for open ones; the API's refusal (acknowledged meanwhile by someone else) is shown at the row.
 */
export function AnomalyTable({
  projectId,
  anomalies,
  names,
  onChanged,
  caption,
  fresh,
}: {
  projectId: string;
  anomalies: MetricAnomaly[];
  /** Metric id -> "asset · metric" and its unit. */
  names: (metricId: string) => { label: string; unit: string };
  onChanged: (anomaly: MetricAnomaly) => void;
  caption: string;
  /** Ids that arrived live since the list was shown: marked as new. */
  fresh?: Set<string>;
}) {
  return (
    <div class="table-wrap">
      <table>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Metric</th>
            <th scope="col">Type</th>
            <th scope="col">Severity</th>
            <th scope="col">Value (expected)</th>
            <th scope="col">Confidence</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          {anomalies.map((a) => (
            <AnomalyRow
              key={a.id}
              projectId={projectId}
              anomaly={a}
              name={names(a.metricId)}
              onChanged={onChanged}
              fresh={fresh?.has(a.id) ?? false}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function AnomalyRow({
  projectId,
  anomaly: a,
  name,
  onChanged,
  fresh,
}: {
  projectId: string;
  anomaly: MetricAnomaly;
  name: { label: string; unit: string };
  onChanged: (anomaly: MetricAnomaly) => void;
  fresh: boolean;
}) {
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  const acknowledge = async () => {
    setState({ busy: true });
    try {
      const done = await call(
        api().POST('/api/v1/projects/{projectId}/anomalies/{anomalyId}/acknowledge', {
          params: { path: { projectId, anomalyId: a.id } },
          body: {},
        }),
      );
      setState({ busy: false });
      onChanged(done);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <tr
      data-anomaly-id={a.id}
      class={fresh ? 'fresh' : undefined}
      aria-label={`${a.severity} ${a.type} on ${name.label} at ${formatTime(a.start)}`}
    >
      <td>
        {formatTime(a.start)}
        {fresh ? <span class="badge new-badge">New</span> : null}
      </td>
      <td>
        <Link href={`/projects/${projectId}/metrics/${a.metricId}`}>{name.label}</Link>
      </td>
      <td>{a.type}</td>
      <td>
        <SeverityBadge severity={a.severity} />
      </td>
      <td>
        {number(a.value)}
        {name.unit ? ` ${name.unit}` : ''} <span class="muted">({number(a.expected)})</span>
        {a.deviationPercent !== null ? <span class="muted"> {a.deviationPercent.toFixed(0)} %</span> : null}
      </td>
      <td>{formatPercent(a.confidence)}</td>
      <td>
        {a.status === 'acknowledged' ? (
          <span title={a.note ?? undefined}>
            Acknowledged{a.acknowledgedBy ? ` by ${a.acknowledgedBy}` : ''}
            {a.acknowledgedAt ? <span class="muted small"> {formatTime(a.acknowledgedAt)}</span> : null}
          </span>
        ) : (
          <button type="button" class="button secondary small" disabled={state.busy} onClick={acknowledge}>
            {state.busy ? 'Acknowledging…' : 'Acknowledge'}
          </button>
        )}
        {state.error ? <ErrorNotice error={state.error} title="Not acknowledged" /> : null}
      </td>
    </tr>
  );
}

/** Merges anomalies into a list newest first, the same id once (a live message and a replay may bring it twice). */
export function mergeAnomalies(list: MetricAnomaly[], more: MetricAnomaly[]): MetricAnomaly[] {
  const byId = new Map(list.map((a) => [a.id, a]));
  for (const a of more) byId.set(a.id, byId.get(a.id)?.status === 'acknowledged' ? byId.get(a.id)! : a);
  return [...byId.values()].sort((p, q) => q.start.localeCompare(p.start) || q.id.localeCompare(p.id));
}
