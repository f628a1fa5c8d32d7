import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'faultline-series-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function faultline(...args: string[]) {
  const r = spawnSync(process.execPath, [resolve('bin/faultline.js'), 'series', ...args], { encoding: 'utf8' });
  return {
    status: r.status,
    lines: r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    stderr: r.stderr,
  };
}

describe('faultline series (command line)', () => {
  it('detect: a bad line is a typed error naming it, exit 1; a good file gives a summary and results CSV', () => {
    writeFileSync(join(dir, 'bad.csv'), 'timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00\n');
    // Hourly, with a spike on day 22 (the daily profile's view has judged its first 384 points by then).
    const hourly = ['timestamp,value'];
    for (let i = 0; i < 24 * 25; i++)
      hourly.push(
        `${new Date(Date.UTC(2024, 0, 1) + i * 3_600_000).toISOString()},${20 + 5 * Math.sin((2 * Math.PI * i) / 24) + (i === 520 ? 30 : 0)}`,
      );
    hourly.push('2024-02-01T00:00:00Z,NaN');
    writeFileSync(join(dir, 'good.csv'), `${hourly.join('\n')}\n`);
    const bad = faultline('detect', join(dir, 'bad.csv'));
    expect(bad.status).toBe(1);
    expect(bad.lines[0].error).toMatchObject({ code: 'DATASET_INVALID', details: { line: 3 } });

    const good = faultline('detect', join(dir, 'good.csv'), '--out', join(dir, 'out'));
    expect(good.status).toBe(0);
    const summary = good.lines.find((l) => l.summary)?.summary;
    expect(summary).toMatchObject({ read: 601, kept: 600, nonNumeric: 1 });
    expect(
      good.lines.some(
        (l) => l.type === 'spike' && l.peak === new Date(Date.UTC(2024, 0, 1) + 520 * 3_600_000).toISOString(),
      ),
    ).toBe(true);
  });

  it('forecast: intervals and a limit crossing as JSON; a wrong horizon is a usage error', () => {
    const f = faultline('forecast', join(dir, 'good.csv'), '--horizon', '24h', '--limit', '24');
    expect(f.status).toBe(0);
    const [out] = f.lines;
    expect(out.season).toBe(24);
    expect(out.forecast).toHaveLength(24);
    expect(out.limit).toMatchObject({ limit: 24, direction: expect.any(String), probability: expect.any(Number) });
    const wrong = faultline('forecast', join(dir, 'good.csv'), '--horizon', 'soon');
    expect(wrong.status).toBe(2);
  });
});
