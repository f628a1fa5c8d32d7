/**
 * npm run bench:series [-- --metrics N --points N --paths http,stream] (--full: 1,000 metrics x 1,000 points, the
 * issue's setting; --paths: which paths to run after the engine, default both)
 *
 * Sensor points end to end on the local runtime, against the engine alone in the same run:
 *  1. the engine alone: each metric's points through the detector and the grouper, in one process;
 *  2. through HTTP: POST /projects/{id}/points (many metrics a call: the next 50 points of each metric of one of 4
 *     groups; the 4 groups send at once, each its calls in order) -> kinesalite -> the consumer -> DynamoDB (dynalite)
 *     -> anomalies on a WebSocket client subscribed to the project;
 *  3. through the stream directly: the same calls' points put on kinesalite as records (one per metric and call).
 * Reports points/s of each (ratio to the engine), the lag from a point's arrival (its call answered, its records put)
 * to its anomaly on the WebSocket client (p50, p95; the anomaly's last point), and anomalies lost, not the engine's or
 * doubled against the engine's own. Progress lines go to stderr.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { AnomalyGrouper } from '../functions/engine/series/anomalies.ts';
import { SeriesDetector } from '../functions/engine/series/detector.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../functions/local/local-settings.ts';
import { startLocalRuntime } from '../functions/local/runtime.ts';
import { POINTS_PER_RECORD } from '../functions/service/sensors/points-intake.ts';
import { stats } from './bench/common.ts';

const { values } = parseArgs({
  options: {
    metrics: { type: 'string', default: '50' },
    points: { type: 'string', default: '2000' },
    full: { type: 'boolean', default: false },
    paths: { type: 'string', default: 'http,stream' },
  },
});
const PATHS = new Set(values.paths.split(','));
for (const p of PATHS)
  if (p !== 'http' && p !== 'stream') throw new Error(`--paths: unknown path "${p}" (http, stream)`);
const METRICS = values.full ? 1000 : Number(values.metrics);
const POINTS = values.full ? 1000 : Number(values.points);
const MINUTE = 60_000;
/** Points of each metric a call carries (50 minutes of a device's readings). */
const WINDOW = 50;
const IN_FLIGHT = 4;

/** Metric m's points: a wave, seeded noise and a few spikes, one a minute up to now. */
function seriesOf(m: number, end: number): { t: number[]; x: number[] } {
  let seed = 1000 + m;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const spikes = new Set([Math.floor(POINTS * 0.5 + rnd() * POINTS * 0.2), Math.floor(POINTS * 0.85)]);
  const t: number[] = [];
  const x: number[] = [];
  for (let i = 0; i < POINTS; i++) {
    t.push(end - (POINTS - i) * MINUTE);
    x.push(20 + m * 0.01 + 3 * Math.sin(i / 40) + (rnd() - 0.5) * 0.4 + (spikes.has(i) ? 25 : 0));
  }
  return { t, x };
}

const started = performance.now();
/** A progress line on stderr (a 1,000,000-point run takes minutes). */
const progress = (what: string) =>
  process.stderr.write(`  [${((performance.now() - started) / 1000).toFixed(0)} s] ${what}\n`);

async function main() {
  const end = Math.floor(Date.now() / MINUTE) * MINUTE;
  const data = Array.from({ length: METRICS }, (_, m) => seriesOf(m, end));
  const total = METRICS * POINTS;
  console.log(`bench:series: ${METRICS} metrics x ${POINTS} points = ${total} points`);

  // 1. the engine alone
  let t0 = performance.now();
  const found: string[][] = [];
  for (const { t, x } of data) {
    const d = new SeriesDetector();
    const g = new AnomalyGrouper();
    const mine: string[] = [];
    for (let i = 0; i < t.length; i++)
      for (const a of g.push(d.step(t[i], x[i]), x[i], new Date(t[i]).toISOString())) mine.push(`${a.start}|${a.type}`);
    found.push(mine);
  }
  const engineRate = total / ((performance.now() - t0) / 1000);
  /** The engine's anomalies as `metricIndex|start|type`: what every path must deliver, each once. */
  const expectedKeys = new Set(found.flatMap((keys, m) => keys.map((k) => `${m}|${k}`)));
  const expected = expectedKeys.size;
  console.log(`engine alone: ${Math.round(engineRate)} points/s, ${expected} anomalies`);

  const dataDir = await mkdtemp(join(tmpdir(), 'faultline-bench-series-'));
  const runtime = await startLocalRuntime(
    loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_WORKERS: '1' }),
    // errors only (a failed call or batch says why), on stderr beside the progress lines
    (line) => {
      if (line.level === 'error') process.stderr.write(`${JSON.stringify(line).slice(0, 2000)}\n`);
    },
  );
  try {
    const api = async (path: string, body: unknown) => {
      const r = await fetch(`${runtime.url}/api/v1${path}`, {
        method: 'POST',
        headers: { 'x-api-key': runtime.apiKey!, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as any;
    };
    const setUp = async (name: string) => {
      const projectId = (await api('/projects', { name, kind: 'sensors' })).id as string;
      const siteId = (await api(`/projects/${projectId}/sites`, { name: 'site' })).id;
      const assetId = (await api(`/projects/${projectId}/assets`, { siteId, name: 'asset' })).id;
      const ids: string[] = new Array(METRICS);
      let m = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (m < METRICS) {
            const k = m++;
            ids[k] = (await api(`/projects/${projectId}/metrics`, { assetId, name: `m${k}` })).id;
          }
        }),
      );
      progress(`${name}: ${METRICS} metrics created`);
      return { projectId, ids };
    };
    /** A WebSocket client on the project: each anomaly's arrival time, and ids seen twice. */
    type Watcher = Awaited<ReturnType<typeof watch>>;
    const watch = async (projectId: string) => {
      const ws = new WebSocket(`${runtime.url.replace(/^http/, 'ws')}/ws?key=${encodeURIComponent(runtime.apiKey!)}`);
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      const seen = new Map<string, { at: number; metricId: string; end: string; start: string; type: string }>();
      let doubled = 0;
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type !== 'anomaly') return;
        if (seen.has(m.anomaly.id)) doubled++;
        else
          seen.set(m.anomaly.id, {
            at: Date.now(),
            metricId: m.anomaly.metricId,
            end: m.anomaly.end,
            start: m.anomaly.start,
            type: m.anomaly.type,
          });
      });
      ws.send(JSON.stringify({ type: 'subscribe', projectId }));
      await new Promise((r) => ws.once('message', r));
      return { ws, seen, doubled: () => doubled };
    };
    const scoredSoFar = () => runtime.points.poller.stats.scored;
    const waitScored = async (target: number, timeoutMs: number) => {
      const deadline = Date.now() + timeoutMs;
      let shown = Date.now();
      while (scoredSoFar() < target) {
        if (Date.now() > deadline) throw new Error(`only ${scoredSoFar()} of ${target} points scored in time`);
        if (Date.now() - shown > 10_000) {
          shown = Date.now();
          progress(`scored ${scoredSoFar()} of ${target}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    // The points arrive as from a fleet of devices: each call carries the next WINDOW points of each metric of one
    // group; IN_FLIGHT groups send at once, each its windows in order (a metric's points must arrive in order).
    const groups = Array.from({ length: IN_FLIGHT }, (_, g) =>
      Array.from({ length: METRICS }, (_, m) => m).filter((m) => m % IN_FLIGHT === g),
    );
    const windows = Math.ceil(POINTS / WINDOW);
    /** When each (window, group) was accepted: the arrival of its points. */
    const arrived = (at: Map<string, number>, m: number, time: number) =>
      at.get(`${Math.floor((POINTS - (end - time) / MINUTE) / WINDOW)}/${m % IN_FLIGHT}`) ?? Number.NaN;
    const report = (name: string, rate: number, watcher: Watcher, ids: string[], at: Map<string, number>) => {
      const index = new Map(ids.map((id, m) => [id, m]));
      const seen = new Set([...watcher.seen.values()].map((a) => `${index.get(a.metricId)}|${a.start}|${a.type}`));
      const lost = [...expectedKeys].filter((k) => !seen.has(k)).length;
      const extra = [...seen].filter((k) => !expectedKeys.has(k)).length;
      const lags = [...watcher.seen.values()]
        .map((a) => a.at - arrived(at, index.get(a.metricId)!, Date.parse(a.end)))
        .filter(Number.isFinite);
      console.log(
        `${name}: ${Math.round(rate)} points/s end to end (x${(rate / engineRate).toFixed(3)} of the engine); anomalies ${watcher.seen.size} of ${expected}, lost ${lost}, not the engine's ${extra}, doubled ${watcher.doubled()}; lag from arrival to the WebSocket client ${JSON.stringify(stats(lags))} ms`,
      );
    };

    /** A call that failed (5xx: a timeout under load) is sent again, as a client would; counted in the report. */
    let retries = 0;
    const withRetries = async <T>(call: () => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await call();
        } catch (error) {
          if (attempt >= 3) throw error;
          retries++;
          progress(`call failed, sent again: ${String(error).slice(0, 200)}`);
        }
      }
    };

    if (PATHS.has('http')) {
      // 2. through HTTP
      const a = await setUp('bench-http');
      const watchA = await watch(a.projectId);
      const acceptedA = new Map<string, number>();
      const before = scoredSoFar();
      t0 = performance.now();
      let calls = 0;
      await Promise.all(
        groups.map(async (group, g) => {
          for (let w = 0; w < windows; w++) {
            const i = w * WINDOW;
            await withRetries(() =>
              api(
                `/projects/${a.projectId}/points`,
                group.flatMap((m) =>
                  data[m].t
                    .slice(i, i + WINDOW)
                    .map((t, k) => ({ metricId: a.ids[m], timestamp: t, value: data[m].x[i + k] })),
                ),
              ),
            );
            acceptedA.set(`${w}/${g}`, Date.now());
            if (++calls % 20 === 0) progress(`HTTP: ${calls} of ${windows * IN_FLIGHT} calls answered`);
          }
        }),
      );
      const acceptedRate = total / ((performance.now() - t0) / 1000);
      progress(`HTTP: every call answered, ${Math.round(acceptedRate)} points/s accepted`);
      await waitScored(before + total, 60 * 60_000);
      const httpRate = total / ((performance.now() - t0) / 1000);
      await new Promise((r) => setTimeout(r, 2000));
      console.log(
        `HTTP: accepted (202) ${Math.round(acceptedRate)} points/s; calls sent again after a 5xx: ${retries}`,
      );
      report('HTTP', httpRate, watchA, a.ids, acceptedA);
      watchA.ws.close();
    }

    if (PATHS.has('stream')) {
      // 3. through the stream directly: the same windows as records, without HTTP
      const b = await setUp('bench-stream');
      const watchB = await watch(b.projectId);
      const acceptedB = new Map<string, number>();
      const before2 = scoredSoFar();
      t0 = performance.now();
      await Promise.all(
        groups.map(async (group, g) => {
          for (let w = 0; w < windows; w++) {
            const i = w * WINDOW;
            await runtime.services.pointStream!.put(
              group.map((m) => ({
                v: 1 as const,
                projectId: b.projectId,
                metricId: b.ids[m],
                t: data[m].t.slice(i, i + WINDOW),
                x: data[m].x.slice(i, i + WINDOW),
              })),
            );
            acceptedB.set(`${w}/${g}`, Date.now());
          }
        }),
      );
      progress('stream: every record put');
      await waitScored(before2 + total, 60 * 60_000);
      const streamRate = total / ((performance.now() - t0) / 1000);
      await new Promise((r) => setTimeout(r, 2000));
      report('stream directly', streamRate, watchB, b.ids, acceptedB);
      watchB.ws.close();
    }
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
