/**
 * Pieces the service benchmarks share (scripts/bench-*.ts): the images, the machine they ran on, percentiles, an API
 * client, a cookie model trained through the API, an S3 client for the local bucket, flags, and the report files.
 */
import { readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { S3Client } from '@aws-sdk/client-s3';
import { quantile } from '../../functions/engine/calibration/score-scale.ts';
import { sharedDir } from '../../functions/engine/paths.ts';
import { type AwsCredentials, readStandInCredentials } from '../../functions/local/aws/stand-in-credentials.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const cookie = join(sharedDir(), 'datasets', 'cookie');
/** The image the synchronous benchmarks send. */
export const CRACKED_IMAGE = {
  path: join(cookie, 'test', 'cracked', 'anomaly-1.jpg'),
  name: 'anomaly-1.jpg',
  description: 'cookie/test/cracked/anomaly-1.jpg (288 x 384 JPEG)',
};

/** The bytes of the cookie test images, cracked and good (46), for the drop folder. */
export const cookieTestImages = (): Promise<Buffer[]> =>
  Promise.all(
    ['cracked', 'good'].flatMap((d) =>
      readdirSync(join(cookie, 'test', d)).map((f) => readFile(join(cookie, 'test', d, f))),
    ),
  );

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** p50, p95, p99 and mean of latencies in ms, one decimal. */
export const stats = (xs: number[]) => ({
  p50: round(quantile(xs, 0.5)),
  p95: round(quantile(xs, 0.95)),
  p99: round(quantile(xs, 0.99)),
  mean: round(xs.reduce((a, b) => a + b, 0) / xs.length),
});

/** What the figures were measured on; the load average tells how busy the (shared) machine was at the start. */
export const machine = () => ({
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: availableParallelism(),
  memoryGiB: round(totalmem() / 2 ** 30),
  loadAverageAtStart: loadavg().map((x) => round(x, 2)),
});

/** The machine in words, for a report's first line. */
export const describeMachine = (m: ReturnType<typeof machine>): string =>
  `${m.cores} cores (${m.cpu}), Node ${m.node}, load average at start ${m.loadAverageAtStart.join(' ')}`;

export type Api = <T = any>(path: string, init?: RequestInit) => Promise<T>;

/** JSON calls to the API with the key; a status other than 2xx throws with the answer. */
export function apiClient(url: string, apiKey: string | undefined): Api {
  return async (path, init) => {
    const response = await fetch(`${url}${path}`, {
      ...init,
      headers: { 'x-api-key': apiKey ?? '', ...(init?.headers as Record<string, string>) },
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`${init?.method ?? 'GET'} ${path} answered ${response.status}: ${text.slice(0, 500)}`);
    return JSON.parse(text);
  };
}

/** A project with a model trained through the API on every cookie train/good image; returns the training job too. */
export async function trainCookieModel(api: Api, name = 'bench'): Promise<{ projectId: string; jobId: string }> {
  const project = await api('/api/v1/projects', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  const form = new FormData();
  const trainDir = join(cookie, 'train', 'good');
  for (const f of readdirSync(trainDir)) form.append('files', new Blob([await readFile(join(trainDir, f))]), f);
  await api(`/api/v1/projects/${project.id}/images`, { method: 'POST', body: form });
  const job = await api(`/api/v1/projects/${project.id}/train`, { method: 'POST' });
  for (let j = job; j.status !== 'SUCCEEDED'; j = await api(`/api/v1/jobs/${job.id}`)) {
    if (j.status === 'FAILED') throw new Error(`training failed: ${j.error?.message}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  process.stderr.write('model trained\n');
  return { projectId: project.id, jobId: job.id };
}

/** The local stand-ins' credentials, made at the service's first start in its data folder. */
export async function localCredentials(dataDir: string): Promise<AwsCredentials> {
  const credentials = await readStandInCredentials(dataDir);
  if (!credentials) throw new Error(`no stand-in credentials in ${dataDir} (the service makes them at start)`);
  return credentials;
}

/** A client for the local bucket, signing with the service's own credentials. */
export const localS3 = async (endpoint: string, dataDir: string) =>
  new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: await localCredentials(dataDir),
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });

/**
 * Numbers (>= 0) from `--name N` (or `--name=N`), else FAULTLINE_BENCH_NAME (dashes as underscores), else the
 * default. An unknown flag or a bad value stops the benchmark with the usage.
 */
export function numericFlags<T extends Record<string, number>>(defaults: T): T {
  const usage = Object.entries(defaults)
    .map(([k, v]) => `--${k} N (default ${v})`)
    .join(' ');
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: Object.fromEntries(Object.keys(defaults).map((k) => [k, { type: 'string' as const }])),
      strict: true,
    }));
  } catch (error) {
    throw new Error(`${(error as Error).message}\nusage: ${usage}`);
  }
  const out: Record<string, number> = {};
  for (const [name, fallback] of Object.entries(defaults)) {
    const raw =
      (values[name] as string | undefined) ?? process.env[`FAULTLINE_BENCH_${name.toUpperCase().replace(/-/g, '_')}`];
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`--${name} wants a number >= 0, not ${raw}\nusage: ${usage}`);
    out[name] = value;
  }
  return out as T;
}

/** bench-results/NAME.json and NAME.md, and the markdown on stdout. */
export async function writeReport(name: string, report: unknown, md: string): Promise<void> {
  await mkdir('bench-results', { recursive: true });
  await writeFile(`bench-results/${name}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`bench-results/${name}.md`, md);
  process.stdout.write(md);
}
