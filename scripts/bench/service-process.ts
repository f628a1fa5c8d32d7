/**
 * The local runtime (`npm start`'s entry) in a child process on a temporary data folder and free ports, so that the
 * service's memory is its own, apart from the load generator's. The child also loads memory-probe.ts, which answers
 * the heap figures over IPC; RSS is read from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../functions/engine/paths.ts';
import { type Api, apiClient, machine, trainCookieModel } from './common.ts';

export interface MemorySample {
  /** /proc/PID/status VmRSS, MB. */
  rssMb: number;
  /** /proc/PID/status RssAnon (heap, stacks, native allocations; not mapped files), MB. */
  rssAnonMb: number;
  /** process.memoryUsage() in the child, its heap figures summed over the child's threads (RSS holds them all), MB. */
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  /** sharp's (libvips') operation cache, MB. */
  sharpCacheMb: number;
}

export interface ServiceProcess {
  pid: number;
  url: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  apiKey: string;
  dataDir: string;
  settings: Record<string, string>;
  memory(): Promise<MemorySample>;
  /** SIGTERM (the service finishes what it holds), SIGKILL after 30 s, then the data folder is removed. */
  stop(): Promise<void>;
}

const MB = 1024 * 1024;

/** A port free now on the loopback (for the SQS stand-in, whose address the start banner does not print). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function procStatusMb(pid: number, field: string): number {
  const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) / 1024;
}

export async function startServiceProcess(name: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), `faultline-bench-${name}-`));
  const sqsPort = await freePort();
  // All the load comes from one loopback address: a per-address rate limit (FAULTLINE_RATE_LIMIT, where the runtime
  // has one; 0 = off) would measure the limiter, not the service.
  const settings = {
    FAULTLINE_DATA_DIR: dataDir,
    FAULTLINE_PORT: '0',
    FAULTLINE_S3_PORT: '0',
    FAULTLINE_DYNAMODB_PORT: '0',
    FAULTLINE_SQS_PORT: String(sqsPort),
    FAULTLINE_ACCESS_LOG: 'false',
    FAULTLINE_WORKERS: '1',
    FAULTLINE_RATE_LIMIT: '0',
    ...env,
  };
  const probe = join(projectRoot(), 'scripts', 'bench', 'memory-probe.ts');
  // FAULTLINE_BENCH_CPU_PROF=DIR: the service writes a V8 CPU profile there when it stops (Node refuses --cpu-prof
  // in NODE_OPTIONS, so it goes on the command line).
  const profileDir = process.env.FAULTLINE_BENCH_CPU_PROF;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
      '--import',
      'tsx',
      '--import',
      probe,
      join(projectRoot(), 'functions', 'local', 'start.ts'),
    ],
    {
      cwd: projectRoot(),
      env: { ...process.env, ...settings },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  // Should this process die without stopping it, the child goes too.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  // Ctrl+C: the child stops (it has the signal too), the data folder goes, then this process.
  const interrupted = () => void stop().finally(() => process.exit(130));
  process.once('SIGINT', interrupted);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  const banner = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start in 120 s:\n${output}`)), 120_000);
    const onData = (d: Buffer) => {
      output = (output + d).slice(-20_000);
      if (/S3 endpoint\s+http/.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() =>
      reject(new Error(`the service exited (${child.exitCode ?? child.signalCode}) before it started:\n${output}`)),
    );
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(killChild, 30_000);
      await exited;
      clearTimeout(timer);
    }
    process.off('exit', killChild);
    process.off('SIGINT', interrupted);
    await rm(dataDir, { recursive: true, force: true });
  };

  let text: string;
  try {
    text = await banner;
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = child.pid!;
  const heap = () =>
    new Promise<NodeJS.MemoryUsage & { sharpCacheMb: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the service did not answer the memory probe in 10 s')), 10_000);
      child.once('message', (m: { memory: NodeJS.MemoryUsage; sharpCacheMb: number }) => {
        clearTimeout(timer);
        resolve({ ...m.memory, sharpCacheMb: m.sharpCacheMb });
      });
      child.send('memory');
    });
  return {
    pid,
    url: text.match(/running at (http:\/\/\S+)/)![1],
    s3Endpoint: text.match(/S3 endpoint\s+(http:\/\/\S+)/)![1],
    sqsEndpoint: `http://127.0.0.1:${sqsPort}`,
    apiKey: (await readFile(join(dataDir, 'api-key'), 'utf8')).trim(),
    dataDir,
    settings,
    async memory() {
      const m = await heap();
      return {
        rssMb: procStatusMb(pid, 'VmRSS'),
        rssAnonMb: procStatusMb(pid, 'RssAnon'),
        heapUsedMb: m.heapUsed / MB,
        heapTotalMb: m.heapTotal / MB,
        externalMb: m.external / MB,
        sharpCacheMb: m.sharpCacheMb,
      };
    },
    stop,
  };
}

/** The service in a child process with a cookie model trained through its API (stopped again if that fails). */
export async function serviceWithCookieModel(name: string): Promise<{
  service: ServiceProcess;
  api: Api;
  projectId: string;
  jobId: string;
  environment: ReturnType<typeof machine> & { serviceWorkers: number };
}> {
  const service = await startServiceProcess(name);
  try {
    const api = apiClient(service.url, service.apiKey);
    return {
      service,
      api,
      ...(await trainCookieModel(api)),
      environment: { ...machine(), serviceWorkers: Number(service.settings.FAULTLINE_WORKERS) },
    };
  } catch (error) {
    await service.stop();
    throw error;
  }
}
