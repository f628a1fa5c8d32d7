import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../functions/engine/paths.ts';
import { isolatedRuntimeEnv } from '../../functions/local/local-settings.ts';
import { startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { testSettings } from '../helpers/local-runtime.ts';
import { engineAnomalies, MINUTE, series } from '../helpers/sensor-series.ts';
import { waitFor } from '../helpers/wait-for.ts';

interface Running {
  child: ChildProcess;
  url: string;
  key: string;
}

/** `npm start`'s entry in a child process, its data in the test's folder, on loopback and free ports. */
async function startService(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot(), 'functions', 'local', 'start.ts')], {
    cwd: projectRoot(),
    env: { ...process.env, ...isolatedRuntimeEnv(dataDir), FAULTLINE_HOST: '127.0.0.1', FAULTLINE_ACCESS_LOG: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = await waitFor('the service to start', async () => out.match(/running at (http:\/\/\S+)/)?.[1], 60_000);
  return { child, url, key: (await readFile(join(dataDir, 'api-key'), 'utf8')).trim() };
}

const kill = (r: Running, signal: NodeJS.Signals = 'SIGKILL') =>
  new Promise<void>((resolve) =>
    r.child.exitCode !== null ? resolve() : (r.child.once('exit', () => resolve()), r.child.kill(signal)),
  );

const METRICS = 4;
const POINTS = 3000;
const PER_CALL = 250;

/**
 * kill -9 of the runtime's process while accepted points wait on the stream, then a start on the same data folder:
 * every accepted point is scored exactly once (each metric's scored count equals what was accepted) and the anomalies
 * are exactly those of the engine alone over the same points (none lost, none doubled).
 */
describe('sensor points across a kill -9 of the runtime', () => {
  let dataDir: string | undefined;
  let running: Running | undefined;
  afterAll(async () => {
    if (running) await kill(running);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('scores every accepted point exactly once after the restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-points-kill-'));
    running = await startService(dataDir);
    const api = async (path: string, body?: unknown) => {
      const r = await fetch(`${running!.url}/api/v1${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'x-api-key': running!.key, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as any };
    };
    const projectId = (await api('/projects', { name: 'plant', kind: 'sensors' })).body.id;
    const siteId = (await api(`/projects/${projectId}/sites`, { name: 'Kiel' })).body.id;
    const assetId = (await api(`/projects/${projectId}/assets`, { siteId, name: 'Fan' })).body.id;
    const metrics: string[] = [];
    for (let m = 0; m < METRICS; m++)
      metrics.push((await api(`/projects/${projectId}/metrics`, { assetId, name: `m${m}` })).body.id);
    const end = Math.floor(Date.now() / MINUTE) * MINUTE;
    const points = series(POINTS, end, [1200, 2100, 2700]);
    const range = `from=${new Date(points[0].time).toISOString()}&to=${new Date(end).toISOString()}&maxPoints=2000`;
    const scored = async (metricId: string) =>
      ((await api(`/projects/${projectId}/metrics/${metricId}/points?${range}`)).body.points as { count?: number }[])
        .map((p) => p.count ?? 1)
        .reduce((a, b) => a + b, 0);

    // Calls of all metrics in turn, as devices send; the process is killed while points still wait to be scored.
    const accepted = new Map(metrics.map((id) => [id, 0]));
    let backlog = 0;
    for (let i = 0; i < POINTS; i += PER_CALL) {
      const sent = await api(
        `/projects/${projectId}/points`,
        metrics.flatMap((metricId) =>
          points.slice(i, i + PER_CALL).map((p) => ({ metricId, timestamp: p.time, value: p.value })),
        ),
      );
      expect(sent.status).toBe(202);
      for (const id of metrics) accepted.set(id, accepted.get(id)! + Math.min(PER_CALL, POINTS - i));
      if (i >= POINTS / 3) {
        backlog = accepted.get(metrics[0])! - (await scored(metrics[0]));
        if (backlog >= PER_CALL) break;
      }
    }
    await kill(running);
    // mid-stream: points accepted and not scored when the process died
    expect(backlog).toBeGreaterThanOrEqual(PER_CALL);

    running = await startService(dataDir);
    for (const metricId of metrics)
      await waitFor(
        `metric ${metricId}: every accepted point scored after the restart`,
        async () => ((await scored(metricId)) >= accepted.get(metricId)! ? true : undefined),
        60_000,
      );
    await new Promise((r) => setTimeout(r, 1000)); // anything scored twice would show by now
    const anomalies = (await api(`/projects/${projectId}/anomalies?limit=100`)).body.items as {
      metricId: string;
      start: string;
      type: string;
    }[];
    for (const metricId of metrics) {
      const sent = points.slice(0, accepted.get(metricId)!);
      expect(await scored(metricId)).toBe(sent.length);
      const expected = engineAnomalies(sent).map((a) => `${a.start} ${a.type}`);
      expect(expected.length).toBeGreaterThan(0);
      expect(
        anomalies
          .filter((a) => a.metricId === metricId)
          .map((a) => `${a.start} ${a.type}`)
          .sort(),
      ).toEqual(expected.sort());
    }
    await kill(running, 'SIGTERM');
    running = undefined;

    // The stored per-metric counts: scored once each, none dropped as already seen.
    const runtime = await startLocalRuntime(testSettings(dataDir), silentLog);
    try {
      for (const metricId of metrics)
        expect(await runtime.services.series.getState(metricId)).toMatchObject({
          scored: accepted.get(metricId),
          dropped: 0,
        });
    } finally {
      await runtime.stop();
    }
  }, 240_000);
});
