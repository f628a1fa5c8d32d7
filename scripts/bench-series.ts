/**
 * npm run bench:series [-- --metrics N --points N] (--full: 1,000 metrics x 1,000 points, the setting)
 *
 * Sensor points end to end on the local runtime, against the engine alone in the same run:
 *  1. the engine alone: each metric's points through the detector and the grouper, in one process;
 *  2. through HTTP: POST /projects/{id}/points (many metrics a call, 4 calls in flight) -> kinesalite -> the consumer ->
 *     DynamoDB (dynalite) -> anomalies on a WebSocket client subscribed to the project;
 *  3. through the stream directly: the same points put on kinesalite as records of one metric each.
 * Reports points/s of each (ratio to the engine), the lag from a point's request being answered to its anomaly on the
 * WebSocket client (p50, p95; the anomaly's last point), and lost or doubled anomalies against the engine's.
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
  },
});
const METRICS = values.full ? 1000 : Number(values.metrics);
const POINTS = values.full ? 1000 : Number(values.points);
const MINUTE = 60_000;
/** Points a many-metrics call carries (~90 bytes each as JSON: ~4.5 MB, under API Gateway's body limit). */
const CALL_POINTS = 50_000;
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
  let expected = 0;
  for (const { t, x } of data) {
    const d = new SeriesDetector();
    const g = new AnomalyGrouper();
    for (let i = 0; i < t.length; i++)
      expected += g.push(d.step(t[i], x[i]), x[i], new Date(t[i]).toISOString()).length;
  }
  const engineRate = total / ((performance.now() - t0) / 1000);
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
    const watch = async (projectId: string) => {
      const ws = new WebSocket(`${runtime.url.replace(/^http/, 'ws')}/ws?key=${encodeURIComponent(runtime.apiKey!)}`);
      await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
      const seen = new Map<string, { at: number; metricId: string; end: string }>();
      let doubled = 0;
      ws.on('message', (raw) => {
        const m = JSON.parse(raw.toString());
        if (m.type !== 'anomaly') return;
        if (seen.has(m.anomaly.id)) doubled++;
        else seen.set(m.anomaly.id, { at: Date.now(), metricId: m.anomaly.metricId, end: m.anomaly.end });
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

    // 2. through HTTP
    const a = await setUp('bench-http');
    const watchA = await watch(a.projectId);
    // calls cover a time window of every metric: the points arrive as from a fleet of devices
    const perCall = Math.max(1, Math.floor(CALL_POINTS / METRICS));
    const calls: { metricId: string; timestamp: number; value: number }[][] = [];
    for (let i = 0; i < POINTS; i += perCall)
      calls.push(
        data.flatMap((d, m) =>
          d.t.slice(i, i + perCall).map((t, k) => ({ metricId: a.ids[m], timestamp: t, value: d.x[i + k] })),
        ),
      );
    const answeredAt = new Map<string, number>(); // `${metricId}@${time}` of each call's last point per metric
    const before = scoredSoFar();
    t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < calls.length) {
          const call = calls[next++];
          await api(`/projects/${a.projectId}/points`, call);
          const now = Date.now();
          for (const p of call) answeredAt.set(`${p.metricId}@${p.timestamp}`, now);
          if (next % 50 === 0) progress(`HTTP: ${next} of ${calls.length} calls answered`);
        }
      }),
    );
    const acceptedRate = total / ((performance.now() - t0) / 1000);
    await waitScored(before + total, 30 * 60_000);
    const httpRate = total / ((performance.now() - t0) / 1000);
    await new Promise((r) => setTimeout(r, 1500));
    const lags = [...watchA.seen.values()]
      .map((s) => s.at - (answeredAt.get(`${s.metricId}@${Date.parse(s.end)}`) ?? Number.NaN))
      .filter(Number.isFinite);
    console.log(
      `HTTP: accepted ${Math.round(acceptedRate)} points/s, scored end to end ${Math.round(httpRate)} points/s (x${(httpRate / engineRate).toFixed(3)} of the engine); anomalies ${watchA.seen.size} of ${expected} (doubled ${watchA.doubled()}); lag to the WebSocket client ${JSON.stringify(stats(lags))} ms`,
    );
    watchA.ws.close();

    // 3. through the stream directly
    const b = await setUp('bench-stream');
    const watchB = await watch(b.projectId);
    const before2 = scoredSoFar();
    t0 = performance.now();
    const records = data.flatMap((d, m) => {
      const out = [];
      for (let i = 0; i < POINTS; i += POINTS_PER_RECORD)
        out.push({
          v: 1 as const,
          projectId: b.projectId,
          metricId: b.ids[m],
          t: d.t.slice(i, i + POINTS_PER_RECORD),
          x: d.x.slice(i, i + POINTS_PER_RECORD),
        });
      return out;
    });
    for (let i = 0; i < records.length; i += 200) await runtime.services.pointStream!.put(records.slice(i, i + 200));
    await waitScored(before2 + total, 30 * 60_000);
    const streamRate = total / ((performance.now() - t0) / 1000);
    await new Promise((r) => setTimeout(r, 1500));
    console.log(
      `stream directly: ${Math.round(streamRate)} points/s (x${(streamRate / engineRate).toFixed(3)} of the engine); anomalies ${watchB.seen.size} of ${expected} (doubled ${watchB.doubled()})`,
    );
    watchB.ws.close();
  } finally {
    await runtime.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
