/**
 * Service benchmark (npm run bench:service): the local runtime on a temporary data folder, a cookie model trained
 * through the API, then
 *   - synchronous detection of one image through HTTP, 100 requests one after another, against the engine running
 *     the same model on the same image in this process (the baseline, measured in the same run, one engine detection
 *     before each request without visualizations, so that both see the same load on a shared machine);
 *   - the drop folder: 200 images put into the inbox at once, timed until all 200 results are stored.
 * Figures go to bench-results/service.{json,md}.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { quantile } from '../functions/engine/calibration/score-scale.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../functions/local/local-settings.ts';
import { startLocalRuntime } from '../functions/local/runtime.ts';
import { silentLog } from '../functions/service/log.ts';
import {
  apiClient,
  CRACKED_IMAGE,
  cookieTestImages,
  localS3,
  machine,
  stats,
  trainCookieModel,
  writeReport,
} from './bench/common.ts';

const REQUESTS = 100;
const DROPS = 200;

const dataDir = await mkdtemp(join(tmpdir(), 'faultline-bench-service-'));
const runtime = await startLocalRuntime(
  loadLocalSettings({
    ...isolatedRuntimeEnv(dataDir),
    FAULTLINE_ACCESS_LOG: 'false',
    FAULTLINE_WORKERS: process.env.FAULTLINE_WORKERS ?? '1',
  }),
  silentLog,
);
try {
  const auth = { 'x-api-key': runtime.apiKey ?? '' };
  const { projectId } = await trainCookieModel(apiClient(runtime.url, runtime.apiKey));

  const image = await readFile(CRACKED_IMAGE.path);
  // Baseline: the engine in this process, same model, same image.
  const detector = await runtime.services.modelCache.detector(projectId, 1);
  for (let i = 0; i < 5; i++) await detector.detect(image);
  const engine: number[] = [];
  const engineOnce = async () => {
    const t = performance.now();
    await detector.detect(image);
    engine.push(performance.now() - t);
  };
  // With `interleaved`, one engine detection before each counted request: on a shared machine both then see the same
  // load over the same minutes, which two runs one after the other do not.
  const http = async (visualizations: boolean, interleaved = false) => {
    const times: number[] = [];
    for (let i = 0; i < REQUESTS + 5; i++) {
      if (interleaved && i >= 5) await engineOnce();
      const body = new FormData();
      body.append('file', new Blob([image], { type: 'image/jpeg' }), CRACKED_IMAGE.name);
      body.append('return_visualizations', String(visualizations));
      const t = performance.now();
      const response = await fetch(`${runtime.url}/api/v1/projects/${projectId}/detect`, {
        method: 'POST',
        body,
        headers: auth,
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`detect answered ${response.status}`);
      if (i >= 5) times.push(performance.now() - t); // the first five warm up
    }
    return times;
  };
  const httpPlain = await http(false, true);
  process.stderr.write('HTTP without visualizations done\n');
  const httpVis = await http(true);
  process.stderr.write('HTTP with visualizations done\n');

  // The drop folder: 200 images (the cookie test set, repeated) put at once.
  const s3 = await localS3(runtime.s3Endpoint, runtime.dataDir);
  const bytes = await cookieTestImages();
  const started = performance.now();
  for (let i = 0; i < DROPS; i++) {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'faultline',
        Key: `inbox/${projectId}/bench/${String(i).padStart(3, '0')}.jpg`,
        Body: bytes[i % bytes.length],
        ContentType: 'image/jpeg',
      }),
    );
  }
  const putSeconds = (performance.now() - started) / 1000;
  let done = 0;
  while (done < DROPS) {
    await new Promise((r) => setTimeout(r, 250));
    done = (await runtime.services.results.batch(projectId, 'bench')).length;
  }
  const dropSeconds = (performance.now() - started) / 1000;

  const report = {
    environment: { ...machine(), workers: runtime.workers.length },
    image: CRACKED_IMAGE.description,
    requests: REQUESTS,
    engineInProcessMs: stats(engine),
    httpDetectMs: stats(httpPlain),
    httpDetectWithVisualizationsMs: stats(httpVis),
    httpOverheadRatio: Number((quantile(httpPlain, 0.5) / quantile(engine, 0.5)).toFixed(2)),
    dropFolder: {
      images: DROPS,
      putSeconds: Number(putSeconds.toFixed(1)),
      totalSeconds: Number(dropSeconds.toFixed(1)),
      imagesPerSecond: Number((DROPS / dropSeconds).toFixed(1)),
    },
  };
  const md = [
    `Faultline service benchmark, ${report.environment.cores} cores (${report.environment.cpu}), ${report.environment.workers} worker`,
    '',
    '| one image, 100 requests in a row | p50 ms | p95 ms |',
    '|---|---:|---:|',
    `| engine in process (baseline) | ${report.engineInProcessMs.p50} | ${report.engineInProcessMs.p95} |`,
    `| POST /detect, no visualizations | ${report.httpDetectMs.p50} | ${report.httpDetectMs.p95} |`,
    `| POST /detect with the five PNGs (stored, presigned) | ${report.httpDetectWithVisualizationsMs.p50} | ${report.httpDetectWithVisualizationsMs.p95} |`,
    '',
    `HTTP / engine at p50: x${report.httpOverheadRatio}. Drop folder: ${DROPS} images in ${report.dropFolder.totalSeconds} s = ${report.dropFolder.imagesPerSecond} images/s (puts took ${report.dropFolder.putSeconds} s).`,
    '',
  ].join('\n');
  await writeReport('service', report, md);
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}
