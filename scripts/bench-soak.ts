/**
 * Soak benchmark (npm run bench:soak): the local runtime in a child process, a cookie model trained through the API,
 * then autocannon at a fixed concurrency for 5 minutes, each connection cycling through: detect (no visualizations),
 * the results list, detect with the five PNGs, the project, the training job. After a warm-up that is not counted,
 * the service's memory is sampled every few seconds: VmRSS and RssAnon from /proc/PID/status, and the V8 heap from
 * process.memoryUsage() in the child, summed over its threads (scripts/bench/memory-probe.ts answers over IPC).
 *
 * Verdict: "flat" when, over the second half of the run, the least-squares slopes of the native memory (RSS less the
 * heap V8 has reserved on every thread) and of the V8 heap in use are both under --max-slope MB per minute (default 2: under 5 MB over
 * the second half of a 5-minute soak, about 1% of the service's RSS). RSS itself is reported but not judged: it
 * carries V8's reservation, which swings by tens of MB with each collection and says nothing of a leak. The first
 * half is left out of the fit: caches (the model, dynalite's LevelDB, V8's code) fill there.
 * Every request must get a 2xx answer, and the verdict must be flat, or the exit status is 1.
 * Flags (or FAULTLINE_BENCH_*): --concurrency 8, --seconds 300, --warmup 30, --sample 5, --max-slope 2.
 * Figures and the series go to bench-results/soak.{json,md}.
 */
import { readFile } from 'node:fs/promises';
import { CRACKED_IMAGE, describeMachine, numericFlags, writeReport } from './bench/common.ts';
import { failures, runLoad, sampleEvery, serviceRequests } from './bench/load.ts';
import { type MemorySample, serviceWithCookieModel } from './bench/service-process.ts';

const flags = numericFlags({ concurrency: 8, seconds: 300, warmup: 30, sample: 5, 'max-slope': 2 });
if (flags.concurrency < 1 || flags.seconds < 1 || flags.sample < 1)
  throw new Error('--concurrency, --seconds and --sample must be at least 1');
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

/** Least-squares slope of y against x. */
function slope(xs: number[], ys: number[]): number {
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

const { service, projectId, jobId, environment } = await serviceWithCookieModel('soak');
let failed = false;
try {
  const r = serviceRequests(service.apiKey, projectId, jobId, await readFile(CRACKED_IMAGE.path));
  const requests = [r.detect, r.results, r.detectWithPngs, r.project, r.job];

  if (flags.warmup > 0) {
    const warmup = await runLoad({ url: service.url, requests, connections: flags.concurrency, seconds: flags.warmup });
    if (failures(warmup)) throw new Error(`warm-up: ${failures(warmup)}`);
    process.stderr.write(`warm-up done: ${warmup.requestsPerSecond} requests/s\n`);
  }
  const started = performance.now();
  const sampler = sampleEvery(flags.sample * 1000, async (): Promise<MemorySample & { t: number }> => ({
    t: (performance.now() - started) / 1000,
    ...(await service.memory()),
  }));
  const outcome = await runLoad({ url: service.url, requests, connections: flags.concurrency, seconds: flags.seconds });
  const series = (await sampler.stop()).map((s) => ({
    t: round(s.t),
    rssMb: round(s.rssMb),
    rssAnonMb: round(s.rssAnonMb),
    nativeMb: round(s.rssMb - s.heapTotalMb),
    heapUsedMb: round(s.heapUsedMb),
    heapTotalMb: round(s.heapTotalMb),
    externalMb: round(s.externalMb),
    sharpCacheMb: round(s.sharpCacheMb),
  }));

  const half = series.filter((s) => s.t >= flags.seconds / 2);
  const perMinute = (key: 'rssMb' | 'rssAnonMb' | 'nativeMb' | 'heapUsedMb') =>
    round(
      slope(
        half.map((s) => s.t / 60),
        half.map((s) => s[key]),
      ),
      2,
    );
  const rssSlope = perMinute('rssMb');
  const nativeSlope = perMinute('nativeMb');
  const heapSlope = perMinute('heapUsedMb');
  const halfMinutes = (half.at(-1)!.t - half[0].t) / 60;
  const flat = half.length >= 3 && nativeSlope < flags['max-slope'] && heapSlope < flags['max-slope'];
  failed = Boolean(failures(outcome)) || !flat;
  const first = series[0];
  const last = series.at(-1)!;
  const report = {
    environment,
    concurrency: flags.concurrency,
    seconds: flags.seconds,
    warmupSeconds: flags.warmup,
    sampleEverySeconds: flags.sample,
    requestCycle:
      'per connection: POST detect (no visualizations), GET results?limit=20, POST detect (five PNGs), GET project, GET job',
    load: outcome,
    memory: {
      startRssMb: first.rssMb,
      endRssMb: last.rssMb,
      peakRssMb: Math.max(...series.map((s) => s.rssMb)),
      startHeapUsedMb: first.heapUsedMb,
      endHeapUsedMb: last.heapUsedMb,
      secondHalf: {
        samples: half.length,
        rssSlopeMbPerMinute: rssSlope,
        rssAnonSlopeMbPerMinute: perMinute('rssAnonMb'),
        nativeSlopeMbPerMinute: nativeSlope,
        heapUsedSlopeMbPerMinute: heapSlope,
        fittedRssGrowthMb: round(rssSlope * halfMinutes),
        fittedRssGrowthPercent: round((100 * rssSlope * halfMinutes) / half[0].rssMb, 2),
      },
      bound: `flat when the slopes of native memory (RSS less V8's reserved heap) and of the V8 heap in use over the second half are both under ${flags['max-slope']} MB/min`,
      verdict: flat ? 'flat' : half.length < 3 ? 'too few samples in the second half' : 'growing',
    },
    series,
    failed,
  };

  const m = report.memory;
  const every = Math.max(1, Math.round(30 / flags.sample));
  const md = [
    `Faultline soak: ${flags.concurrency} connections for ${flags.seconds} s after ${flags.warmup} s of warm-up, memory sampled every ${flags.sample} s; ${describeMachine(environment)}; ${environment.serviceWorkers} queue worker`,
    `Each connection cycles: ${report.requestCycle.replace('per connection: ', '')}.`,
    '',
    `Requests: ${outcome.responses} (${outcome.requestsPerSecond}/s), p50 ${outcome.latencyMs.p50} ms, p95 ${outcome.latencyMs.p95} ms, p99 ${outcome.latencyMs.p99} ms; non-2xx ${outcome.non2xx}, errors ${outcome.errors} (timeouts ${outcome.timeouts}).`,
    '',
    '| service memory | start | end | peak | slope over the second half |',
    '|---|---:|---:|---:|---:|',
    `| RSS MB | ${m.startRssMb} | ${m.endRssMb} | ${m.peakRssMb} | ${m.secondHalf.rssSlopeMbPerMinute} MB/min |`,
    `| RssAnon MB | ${first.rssAnonMb} | ${last.rssAnonMb} | ${Math.max(...series.map((s) => s.rssAnonMb))} | ${m.secondHalf.rssAnonSlopeMbPerMinute} MB/min |`,
    `| native MB (RSS less V8's reserved heap) | ${first.nativeMb} | ${last.nativeMb} | ${Math.max(...series.map((s) => s.nativeMb))} | ${m.secondHalf.nativeSlopeMbPerMinute} MB/min |`,
    `| V8 heap used MB | ${m.startHeapUsedMb} | ${m.endHeapUsedMb} | ${Math.max(...series.map((s) => s.heapUsedMb))} | ${m.secondHalf.heapUsedSlopeMbPerMinute} MB/min |`,
    '',
    `Verdict: **${m.verdict}** (${m.bound}; ${m.secondHalf.samples} samples; the RSS line fitted over the second half rises ${m.secondHalf.fittedRssGrowthMb} MB, ${m.secondHalf.fittedRssGrowthPercent}%).${failures(outcome) ? ` FAILED requests: ${failures(outcome)}` : ''}`,
    '',
    `| t s | RSS MB | RssAnon MB | native MB | heap used MB |`,
    '|---:|---:|---:|---:|---:|',
    ...series
      .filter((_, i) => i % every === 0 || i === series.length - 1)
      .map((s) => `| ${s.t} | ${s.rssMb} | ${s.rssAnonMb} | ${s.nativeMb} | ${s.heapUsedMb} |`),
    '',
    `(every ${every * flags.sample} s here; every sample in bench-results/soak.json)`,
    '',
  ].join('\n');
  await writeReport('soak', report, md);
} finally {
  await service.stop();
}
if (failed) process.exitCode = 1;
