import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanRows } from '../../../functions/engine/series/clean.ts';
import { parseSeriesCsv } from '../../../functions/engine/series/csv.ts';
import { SeriesDetector } from '../../../functions/engine/series/detector.ts';
import { DETECTOR_STATE_VERSION, loadDetector, saveDetector } from '../../../functions/engine/series/state.ts';
import { hasNab, nabDir, syntheticSeries } from './helpers.ts';

/** Scores a series in one go, and again cut at `cuts` with a JSON round trip of the state at each cut. */
function scoresWithCuts(
  time: Float64Array,
  value: Float64Array,
  cuts: number[],
): { whole: number[]; resumed: number[]; maxStateBytes: number } {
  const one = new SeriesDetector();
  const whole = Array.from(value, (v, i) => one.step(time[i], v).score);
  let detector = new SeriesDetector();
  const resumed: number[] = [];
  let maxStateBytes = 0;
  for (let i = 0; i < value.length; i++) {
    if (cuts.includes(i)) {
      const json = JSON.stringify(saveDetector(detector));
      maxStateBytes = Math.max(maxStateBytes, json.length);
      detector = loadDetector(JSON.parse(json));
    }
    resumed.push(detector.step(time[i], value[i]).score);
  }
  return { whole, resumed, maxStateBytes };
}

describe('detector state', () => {
  it('split anywhere, resumed from JSON: the same scores bit for bit', () => {
    const s = syntheticSeries(6000);
    // early (still warming up), at window and rescaling boundaries, and odd places
    const cuts = [1, 2, 15, 150, 151, 383, 384, 385, 1000, 3071, 4095, 4096, 4097, 5999];
    const { whole, resumed, maxStateBytes } = scoresWithCuts(s.time, s.value, cuts);
    expect(resumed.every((x, i) => Object.is(x, whole[i]))).toBe(true);
    expect(whole.some((x) => x > 0.4)).toBe(true); // the spike is seen: the comparison is not of zeros
    expect(maxStateBytes).toBeLessThan(32_000); // 4 views x 2 windows of 384 float32 in base64, the rest small
  });

  it.skipIf(!hasNab)('two NAB files, cut at several points, give identical scores', async () => {
    for (const rel of ['realKnownCause/nyc_taxi.csv', 'realAdExchange/exchange-3_cpc_results.csv']) {
      const series = cleanRows(parseSeriesCsv(await readFile(join(nabDir, 'data', rel), 'utf8')));
      const n = series.value.length;
      const cuts = [7, Math.floor(n / 5), Math.floor(n / 2), n - 3];
      const { whole, resumed } = scoresWithCuts(series.time, series.value, cuts);
      expect(resumed.every((x, i) => Object.is(x, whole[i]))).toBe(true);
    }
  });

  it('a state of another version is refused, not misread', () => {
    const state = saveDetector(new SeriesDetector());
    expect(state.version).toBe(DETECTOR_STATE_VERSION);
    expect(() => loadDetector({ ...state, version: DETECTOR_STATE_VERSION + 1 })).toThrow(/version/);
  });
});
