import type { Severity } from '../api/sensors.ts';

/** An anomaly's severity colour, calm to severe (the text always carries the meaning too). */
export const SEVERITY_COLOURS: Record<Severity, string> = {
  low: '#5b7fa6',
  medium: '#b8860b',
  high: '#d2691e',
  critical: '#c62828',
};

export function SeverityBadge({ severity }: { severity: Severity }) {
  return <span class={`badge severity-${severity}`}>{severity}</span>;
}
