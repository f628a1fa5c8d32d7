/**
 * Load benchmark (npm run bench:load): the local runtime in a child process on a temporary data folder, a cookie
 * model trained through the API, then autocannon at a fixed concurrency for a fixed time per scenario:
 *   - GET /health, the HTTP baseline of the same run;
 *   - the read routes (projects, one project, results, one job, models), one scenario each;
 *   - POST /detect with one cracked cookie JPEG, without and with the visualizations;
 * and, as the detection baseline of the same run, the engine in this process (the same model artifact, fetched from
 * the service's bucket, the same image) driven at the same concurrency for the same time while the service idles.
 * Each scenario is preceded by a warm-up that is not counted. Every request must get a 2xx answer: any other answer
 * or error is reported and the exit status is 1.
 * Flags (or FAULTLINE_BENCH_*): --concurrency 8, --seconds 20, --warmup 3.
 * Figures go to bench-results/load.{json,md}.
 */
import { readFile } from 'node:fs/promises';
import { CRACKED_IMAGE, describeMachine, numericFlags, writeReport } from './bench/common.ts';
import { engineLoad, serviceDetector } from './bench/engine-baseline.ts';
import { failures, type LoadOutcome, type LoadRequest, runLoad, sampleEvery, serviceRequests } from './bench/load.ts';
import { serviceWithCookieModel } from './bench/service-process.ts';

const flags = numericFlags({ concurrency: 8, seconds: 20, warmup: 3 });
if (flags.concurrency < 1 || flags.seconds < 1) throw new Error('--concurrency and --seconds must be at least 1');
const round = (x: number, digits = 2) => Number(x.toFixed(digits));
const log = (line: string) => process.stderr.write(`${line}\n`);

const { service, api, projectId, jobId, environment } = await serviceWithCookieModel('load');
let failed = false;
try {
  const image = await readFile(CRACKED_IMAGE.path);
  const r = serviceRequests(service.apiKey, projectId, jobId, image);
  // The model loaded in the service, and some results for the results route to list.
  for (let i = 0; i < 25; i++)
    await api(r.detect.path, { method: 'POST', body: r.detect.body, headers: r.detect.headers });

  // The engine baseline: the artifact the service trained, loaded here, the service idle meanwhile.
  const engine: Record<'plain' | 'withVisualizations', Awaited<ReturnType<typeof engineLoad>>> = {} as never;
  const detector = await serviceDetector(service, projectId);
  try {
    for (const visualizations of [false, true]) {
      if (flags.warmup > 0) await engineLoad(detector, [image], visualizations, flags.concurrency, flags.warmup);
      engine[visualizations ? 'withVisualizations' : 'plain'] = await engineLoad(
        detector,
        [image],
        visualizations,
        flags.concurrency,
        flags.seconds,
      );
      log(
        `engine in process${visualizations ? ' with visualizations' : ''}: ${engine[visualizations ? 'withVisualizations' : 'plain'].detectionsPerSecond} detections/s`,
      );
    }
  } finally {
    await detector.release();
  }

  const scenarios: Array<{ name: string; request: LoadRequest }> = [
    { name: 'GET /health (HTTP baseline)', request: r.health },
    { name: 'GET /api/v1/projects', request: r.projects },
    { name: 'GET /api/v1/projects/{id}', request: r.project },
    { name: 'GET /api/v1/projects/{id}/results?limit=20', request: r.results },
    { name: 'GET /api/v1/jobs/{id}', request: r.job },
    { name: 'GET /api/v1/projects/{id}/models', request: r.models },
    { name: 'POST /api/v1/projects/{id}/detect, no visualizations', request: r.detect },
    { name: 'POST /api/v1/projects/{id}/detect with the five PNGs', request: r.detectWithPngs },
  ];
  const measured: Array<{ name: string; outcome: LoadOutcome; peakServiceRssMb: number; failures: string }> = [];
  for (const { name, request } of scenarios) {
    if (flags.warmup > 0)
      await runLoad({ url: service.url, requests: [request], connections: flags.concurrency, seconds: flags.warmup });
    const memory = sampleEvery(1000, () => service.memory());
    const outcome = await runLoad({
      url: service.url,
      requests: [request],
      connections: flags.concurrency,
      seconds: flags.seconds,
    });
    const peakServiceRssMb = Math.round(Math.max(...(await memory.stop()).map((m) => m.rssMb)));
    measured.push({ name, outcome, peakServiceRssMb, failures: failures(outcome) });
    log(
      `${name}: ${outcome.requestsPerSecond} requests/s, p50 ${outcome.latencyMs.p50} ms${failures(outcome) ? `, FAILED: ${failures(outcome)}` : ''}`,
    );
  }
  failed = measured.some((m) => m.failures);

  const health = measured[0].outcome;
  const vsHealth = (o: LoadOutcome) => ({
    requestsPerSecond: round(o.requestsPerSecond / health.requestsPerSecond, 3),
    p50: round(o.latencyMs.p50 / health.latencyMs.p50),
  });
  const vsEngine = (o: LoadOutcome, e: (typeof engine)['plain']) => ({
    requestsPerSecond: round(o.requestsPerSecond / e.detectionsPerSecond),
    p50: round(o.latencyMs.p50 / e.latencyMs.p50),
    p99: round(o.latencyMs.p99 / e.latencyMs.p99),
  });
  const [detectPlain, detectPngs] = measured.slice(-2).map((m) => m.outcome);
  const report = {
    environment,
    concurrency: flags.concurrency,
    secondsPerScenario: flags.seconds,
    warmupSecondsPerScenario: flags.warmup,
    requestTimeoutSeconds: 10,
    image: CRACKED_IMAGE.description,
    loadGenerator:
      'autocannon in the benchmark process; the service in a child process (node functions/local/start.ts)',
    engineBaseline: {
      how: 'the same model artifact (fetched from the service bucket) and image, Detector.detect in the benchmark process, the same concurrency and duration, run while the service was idle',
      ...engine,
    },
    scenarios: measured.map((m) => ({
      name: m.name,
      ...m.outcome,
      peakServiceRssMb: m.peakServiceRssMb,
      vsHealth: vsHealth(m.outcome),
      failures: m.failures || undefined,
    })),
    detectVsEngine: {
      plain: vsEngine(detectPlain, engine.plain),
      withVisualizations: vsEngine(detectPngs, engine.withVisualizations),
    },
    failed,
  };

  const md = [
    `Faultline load benchmark: ${flags.concurrency} connections, ${flags.seconds} s per scenario after ${flags.warmup} s of warm-up; ${describeMachine(environment)}; ${environment.serviceWorkers} queue worker`,
    '',
    '| scenario | requests/s | p50 ms | p95 ms | p99 ms | non-2xx | errors (timeouts) | requests/s vs /health | p50 vs /health | service peak RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...report.scenarios.map(
      (s) =>
        `| ${s.name} | ${s.requestsPerSecond} | ${s.latencyMs.p50} | ${s.latencyMs.p95} | ${s.latencyMs.p99} | ${s.non2xx} | ${s.errors} (${s.timeouts}) | ${s.vsHealth.requestsPerSecond} | x${s.vsHealth.p50} | ${s.peakServiceRssMb} |`,
    ),
    '',
    `| detection at ${flags.concurrency} in flight | detections/s | p50 ms | p95 ms | p99 ms | HTTP / engine: requests/s | p50 | p99 |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    `| engine in process, no visualizations (baseline) | ${engine.plain.detectionsPerSecond} | ${engine.plain.latencyMs.p50} | ${engine.plain.latencyMs.p95} | ${engine.plain.latencyMs.p99} | | | |`,
    `| POST /detect, no visualizations | ${detectPlain.requestsPerSecond} | ${detectPlain.latencyMs.p50} | ${detectPlain.latencyMs.p95} | ${detectPlain.latencyMs.p99} | ${report.detectVsEngine.plain.requestsPerSecond} | x${report.detectVsEngine.plain.p50} | x${report.detectVsEngine.plain.p99} |`,
    `| engine in process, five PNGs encoded (baseline) | ${engine.withVisualizations.detectionsPerSecond} | ${engine.withVisualizations.latencyMs.p50} | ${engine.withVisualizations.latencyMs.p95} | ${engine.withVisualizations.latencyMs.p99} | | | |`,
    `| POST /detect, five PNGs stored and presigned | ${detectPngs.requestsPerSecond} | ${detectPngs.latencyMs.p50} | ${detectPngs.latencyMs.p95} | ${detectPngs.latencyMs.p99} | ${report.detectVsEngine.withVisualizations.requestsPerSecond} | x${report.detectVsEngine.withVisualizations.p50} | x${report.detectVsEngine.withVisualizations.p99} |`,
    '',
    'The engine baseline is the same model artifact and image run by Detector.detect in the benchmark process at the same concurrency, while the service idled:',
    'what the CPU allows without HTTP, multipart parsing, the API-key check, the result stored in the table and the PNGs stored and presigned.',
    `Latencies are per response, measured by the load generator. ${
      failed
        ? `FAILED: ${measured
            .filter((m) => m.failures)
            .map((m) => `${m.name}: ${m.failures}`)
            .join('; ')}`
        : 'Every request got a 2xx answer.'
    }`,
    '',
  ].join('\n');
  await writeReport('load', report, md);
} finally {
  await service.stop();
}
if (failed) process.exitCode = 1;
