import type { ImageSource } from '../dataset/image-source.ts';
import { FaultlineError } from '../errors.ts';
import type { FeatureExtractor } from '../features/feature-extractor.ts';
import type { InputPreparer } from '../features/input-preparer.ts';

export interface SkippedImage {
  name: string;
  code: string;
  message: string;
}

/** Patch features of a set of images, in the order of `names`; images that could not be read are listed apart. */
export interface FeatureSet {
  /** [names.length * patchesPerImage, dims] */
  features: Float32Array;
  names: string[];
  /** Displayed width and height of each image. */
  sizes: [number, number][];
  skipped: SkippedImage[];
}

/** Decodes and embeds images batch by batch, writing straight into one preallocated feature array. */
export async function extractFeatureSet(
  sources: ImageSource[],
  extractor: FeatureExtractor,
  preparer: InputPreparer,
  onProgress?: (done: number, total: number) => void,
): Promise<FeatureSet> {
  const perImage = extractor.patchesPerImage * extractor.channels;
  const features = new Float32Array(sources.length * perImage);
  const names: string[] = [];
  const sizes: [number, number][] = [];
  const skipped: SkippedImage[] = [];
  for (let start = 0; start < sources.length; start += preparer.batchSize) {
    const chunk = sources.slice(start, start + preparer.batchSize);
    const decoded = await Promise.allSettled(chunk.map(async (s) => preparer.decode(await s.read())));
    let slot = 0;
    decoded.forEach((d, i) => {
      if (d.status === 'rejected') {
        const e = d.reason as Error;
        skipped.push({
          name: chunk[i].name,
          code: e instanceof FaultlineError ? e.code : 'READ_FAILED',
          message: e.message,
        });
        return;
      }
      preparer.write(d.value, slot++);
      names.push(chunk[i].name);
      sizes.push([d.value.info.width, d.value.info.height]);
    });
    if (slot > 0) features.set(await extractor.extract(preparer.batch, slot), (names.length - slot) * perImage);
    onProgress?.(Math.min(start + chunk.length, sources.length), sources.length);
  }
  return { features: features.subarray(0, names.length * perImage), names, sizes, skipped };
}
