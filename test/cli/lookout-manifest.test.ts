import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../functions/engine/paths.ts';

const cli = join(projectRoot(), 'bin', 'faultline.js');
const faultline = (...args: string[]) => {
  const run = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: projectRoot(), timeout: 60_000 });
  return { status: run.status, out: run.stdout.trim() ? JSON.parse(run.stdout) : undefined, stderr: run.stderr };
};
const meta = (cls: string) => ({ 'class-name': cls, type: 'groundtruth/image-classification' });
const colourMap = {
  '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff' },
  '1': { 'class-name': 'crack', 'hex-color': '#2ca02c' },
};

describe('faultline lookout-manifest', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-manifest-'));
  });
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('counts a good manifest and names the bad lines of another (exit 1)', async () => {
    const good = join(work, 'good.manifest');
    await writeFile(
      good,
      [
        { 'source-ref': 's3://b/n.jpg', 'anomaly-label': 0, 'anomaly-label-metadata': meta('normal') },
        {
          'source-ref': 's3://b/a.jpg',
          'anomaly-label': 1,
          'anomaly-label-metadata': meta('anomaly'),
          'anomaly-mask-ref': 's3://b/a.png',
          'anomaly-mask-ref-metadata': { 'internal-color-map': colourMap },
        },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n'),
    );
    expect(faultline('lookout-manifest', good)).toMatchObject({
      status: 0,
      out: { ok: true, lines: 2, normal: 1, anomalous: 1, withMask: 1, classes: ['crack'] },
    });
    const bad = join(work, 'bad.manifest');
    await writeFile(bad, `{"source-ref": "s3://b/n.jpg", "anomaly-label": 3}\nnot json\n`);
    const run = faultline('lookout-manifest', bad);
    expect(run.status).toBe(1);
    expect(run.out.ok).toBe(false);
    expect(run.out.lines.map((l: { line: number }) => l.line)).toEqual([1, 2]);
  }, 60_000);
});
