import { type ChildProcess, spawn } from 'node:child_process';
import { isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot, sharedDir } from '../../functions/engine/paths.ts';
import { readStandInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';
import { waitFor } from '../helpers/wait-for.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');

interface Running {
  child: ChildProcess;
  url: string;
  s3: string;
  key: string;
}

/** `npm start`'s entry in a child process, on free ports, that the test can kill -9. */
async function startService(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot(), 'functions', 'local', 'start.ts')], {
    cwd: projectRoot(),
    env: {
      ...process.env,
      ...isolatedRuntimeEnv(dataDir),
      FAULTLINE_ACCESS_LOG: 'false',
      // several drop-folder images in hand when the process dies
      FAULTLINE_WORKER_CONCURRENCY: '4',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await waitFor('the service to start', async () => out.match(/running at (http:\/\/\S+)/)?.[1], 60_000);
  const s3 = out.match(/S3 endpoint\s+(http:\/\/\S+)/)![1];
  const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
  return { child, url, s3, key };
}

const kill = (r: Running) =>
  new Promise<void>((resolve) =>
    r.child.exitCode !== null ? resolve() : (r.child.once('exit', () => resolve()), r.child.kill('SIGKILL')),
  );

/** The process dies at the worst moment (kill -9), then starts again on the same data: nothing lost, nothing twice. */
describe.skipIf(!existsSync(cookie))('a killed service', () => {
  let dataDir: string;
  let running: Running | undefined;
  let projectId: string;
  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${running!.url}/api/v1${path}`, {
      ...init,
      headers: { 'x-api-key': running!.key, ...(init.headers as Record<string, string>) },
    });
    return (await response.json()) as any;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-crash-'));
    running = await startService(dataDir);
    projectId = (
      await api('/projects', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'crash' }),
      })
    ).id;
    const form = new FormData();
    const train = join(cookie, 'train', 'good');
    for (const f of readdirSync(train)) form.append('files', new Blob([await readFile(join(train, f))]), f);
    expect((await api(`/projects/${projectId}/images`, { method: 'POST', body: form })).imageCount).toBe(31);
  });
  afterEach(async () => {
    if (running) await kill(running);
    running = await startService(dataDir);
  });
  afterAll(async () => {
    if (running) await kill(running);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes a training job killed midway after the restart, with one model version', async () => {
    const job = await api(`/projects/${projectId}/train`, { method: 'POST' });
    await waitFor(
      'training to start',
      async () => ((await api(`/jobs/${job.id}`)).status === 'RUNNING' ? true : undefined),
      30_000,
    );
    await kill(running!);
    running = await startService(dataDir);
    const done = await waitFor('the job to finish after the restart', async () => {
      const j = await api(`/jobs/${job.id}`);
      return j.status === 'SUCCEEDED' || j.status === 'FAILED' ? j : undefined;
    });
    expect(done.status).toBe('SUCCEEDED');
    expect(done.attempts).toBe(2);
    const models = await api(`/projects/${projectId}/models`);
    expect(models.items.map((m: any) => m.version)).toEqual([1]);
  });

  it('detects every drop-folder image once though the process died in the middle of the batch', async () => {
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: running!.s3,
      forcePathStyle: true,
      credentials: (await readStandInCredentials(dataDir))!,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const images = readdirSync(join(cookie, 'test', 'cracked')).slice(0, 20);
    for (const [i, f] of images.entries()) {
      await s3.send(
        new PutObjectCommand({
          Bucket: 'faultline',
          Key: `inbox/${projectId}/crash/${i}.jpg`,
          Body: await readFile(join(cookie, 'test', 'cracked', f)),
          ContentType: 'image/jpeg',
        }),
      );
    }
    await waitFor(
      'some results',
      async () => ((await api(`/projects/${projectId}/batches/crash`)).total_images >= 3 ? true : undefined),
      30_000,
    );
    await kill(running!);
    running = await startService(dataDir);
    const summary = await waitFor('all 20 results', async () => {
      const b = await api(`/projects/${projectId}/batches/crash`);
      return b.total_images >= 20 ? b : undefined;
    });
    expect(summary.total_images).toBe(20);
    const results = await api(`/projects/${projectId}/results?limit=100`);
    const keys = results.items.filter((r: any) => r.batchId === 'crash').map((r: any) => r.source.key);
    expect(new Set(keys).size).toBe(20);
    expect(keys).toHaveLength(20);
  });
});
