import type { ForecastPoint } from './forecast.ts';
import { normalTail } from '../robust.ts';

export interface LimitCrossing {
  limit: number;
  direction: 'rising' | 'falling'; // towards the limit from the last known value
  forecast_crossing: string | null; // when the point forecast first reaches the limit (ISO time), null within the horizon
  bound95_crossing: string | null; // when the 95 % bound on the limit's side first reaches it: the earliest plausible
  probability: number; // chance that the limit is reached within the horizon (normal approximation of the intervals)
  confidence: 'low' | 'medium' | 'high';
}

/**
 * Predictive maintenance on a forecast: when does the metric reach the limit? The point forecast gives the
 * expected time, the 95 % bound the earliest time to plan for; the probability is the largest step-wise chance of
 * being past the limit, reading each step's 95 % half-width as 1.96 standard deviations.
 */
export function limitCrossing(points: readonly ForecastPoint[], lastValue: number, limit: number): LimitCrossing {
  const rising = limit >= lastValue;
  const past = (v: number) => (rising ? v >= limit : v <= limit);
  let forecastAt: number | undefined;
  let boundAt: number | undefined;
  let probability = 0;
  for (const p of points) {
    if (forecastAt === undefined && past(p.value)) forecastAt = p.time;
    if (boundAt === undefined && past(rising ? p.upper95 : p.lower95)) boundAt = p.time;
    const sd = (p.upper95 - p.value) / 1.96;
    const z =
      sd > 0
        ? (rising ? p.value - limit : limit - p.value) / sd
        : past(p.value)
          ? Number.POSITIVE_INFINITY
          : Number.NEGATIVE_INFINITY;
    probability = Math.max(probability, 1 - normalTail(z));
  }
  const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
  return {
    limit,
    direction: rising ? 'rising' : 'falling',
    forecast_crossing: iso(forecastAt),
    bound95_crossing: iso(boundAt),
    probability: Math.round(probability * 1000) / 1000,
    confidence: probability >= 0.8 ? 'high' : probability >= 0.4 ? 'medium' : 'low',
  };
}
