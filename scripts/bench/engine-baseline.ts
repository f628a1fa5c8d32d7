/**
 * The engine alone as the detection baseline of a benchmark run: the artifact the service trained, fetched from its
 * bucket and loaded in the bench's own process (the service idles meanwhile), driven with a fixed number of
 * detections in flight for a fixed time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { Detector } from '../../functions/engine/detection/detector.ts';
import { ARTIFACT_FILES } from '../../functions/service/models/model-cache.ts';
import { modelPrefix } from '../../functions/service/object-keys.ts';
import { localS3, stats } from './common.ts';
import type { ServiceProcess } from './service-process.ts';

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** The service's model `version` of `projectId`, loaded here; release() it when done. */
export async function serviceDetector(service: ServiceProcess, projectId: string, version = 1): Promise<Detector> {
  const s3 = await localS3(service.s3Endpoint, service.dataDir);
  const artifactDir = await mkdtemp(join(tmpdir(), 'faultline-bench-model-'));
  try {
    for (const file of ARTIFACT_FILES) {
      const object = await s3.send(
        new GetObjectCommand({ Bucket: 'faultline', Key: `${modelPrefix(projectId, version)}${file}` }),
      );
      await writeFile(join(artifactDir, file), await object.Body!.transformToByteArray());
    }
    return await Detector.load(artifactDir);
  } finally {
    s3.destroy();
    await rm(artifactDir, { recursive: true, force: true });
  }
}

/** `connections` detections in flight, each loop starting the next when its last ends, over `images` in turn. */
export async function engineLoad(
  detector: Detector,
  images: Buffer[],
  visualizations: boolean,
  connections: number,
  seconds: number,
) {
  const latencies: number[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const image = images[next++ % images.length]!;
        const t = performance.now();
        await detector.detect(image, { visualizations });
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    connections,
    seconds: round(elapsed, 1),
    detections: latencies.length,
    detectionsPerSecond: round(latencies.length / elapsed, 1),
    latencyMs: stats(latencies),
  };
}
