import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom } from '../../../functions/engine/math/random.ts';

/** ../shared/nab beside the project: the NAB subset the integration tests read. */
export const nabDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'nab');
export const hasNab = existsSync(resolve(nabDir, 'data'));

/** A daily cycle at 5-minute steps with noise, a spike and a level shift: the synthetic series of the tests. */
export function syntheticSeries(
  n: number,
  seed = 1,
): { time: Float64Array; value: Float64Array; timestampText: string[] } {
  const random = seededRandom(seed);
  const time = new Float64Array(n);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    time[i] = Date.UTC(2024, 0, 1) + i * 300_000;
    value[i] =
      50 +
      10 * Math.sin((2 * Math.PI * i) / 288) +
      (random() - 0.5) * 2 +
      (i === Math.floor(n * 0.5) ? 40 : 0) +
      (i > n * 0.8 ? 15 : 0);
  }
  return { time, value, timestampText: Array.from(time, (t) => new Date(t).toISOString()) };
}
