import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectSeries } from '../../../functions/engine/series/detect-series.ts';
import { NAB_PROFILES, nabScore } from '../../../functions/engine/series/nab-sweep.ts';
import { readNabCorpus } from '../../../functions/engine/series/nab-corpus.ts';
import { hasNab, nabDir } from './helpers.ts';

const corpus = hasNab ? await readNabCorpus(nabDir) : [];

function scored(relatives: string[]) {
  return corpus
    .filter((f) => relatives.length === 0 || relatives.includes(f.relative))
    .map((f) => {
      const { scores } = detectSeries(f.series);
      return {
        timestamps: f.rows.map((r) => r.time),
        scores: Array.from(f.series.pointOfRow, (p) => (p < 0 ? 0 : scores[p])),
        windows: f.windows,
      };
    });
}

/** What NAB's scorer needs, checked the way score.sh runs it, so that a failure names the missing package. */
function missingPythonPackages(): string[] {
  return ['pandas', 'simplejson', 'dateutil'].filter(
    (m) => spawnSync('/usr/bin/python3', ['-c', `import ${m}`]).status !== 0,
  );
}

describe.skipIf(!hasNab)('NAB corpus', () => {
  it('two NAB files score above a floor (standard profile, their own threshold)', () => {
    const files = scored([
      'realKnownCause/ec2_request_latency_system_failure.csv',
      'artificialWithAnomaly/art_daily_jumpsup.csv',
    ]);
    expect(nabScore(files, NAB_PROFILES[0]).normalised).toBeGreaterThan(60);
  });

  it("the whole corpus through NAB's own scorer: the same scores as the TypeScript sweep, standard above the floor", () => {
    const missing = missingPythonPackages().map((m) => `python3-${m}`);
    expect(missing, `NAB's scorer needs Debian packages: apt-get install ${missing.join(' ')}`).toEqual([]);
    const out = mkdtempSync(join(tmpdir(), 'faultline-nab-'));
    try {
      const stdout = execFileSync(
        process.execPath,
        [resolve('bin/faultline.js'), 'series', 'eval', nabDir, '--out', out, '--no-progress'],
        { encoding: 'utf8' },
      );
      const report = JSON.parse(stdout.trim().split('\n').pop() as string);
      for (const profile of NAB_PROFILES)
        expect(report.nab[profile.name]).toBeCloseTo(report.nab_sweep_typescript[profile.name], 1);
      expect(report.nab.standard).toBeGreaterThan(60);
      const ts = nabScore(scored([]), NAB_PROFILES[0]).normalised;
      expect(ts).toBeCloseTo(report.nab_sweep_typescript.standard, 1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
