import type { ImageSource } from '../dataset/image-source.ts';
import { FaultlineError } from '../errors.ts';
import type { FeatureExtractor } from '../features/feature-extractor.ts';
import type { InputPreparer } from '../features/input-preparer.ts';
import { type AugmentedView, renderView } from './augment.ts';

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

/**
 * Patch features of augmented views of images: for each image that can be read, one view per entry of `views`, in
 * that order ([images * views, patchesPerImage, dims]). Images that cannot be read are skipped (the plain pass
 * reports them).
 */
export async function extractViewFeatures(
  sources: ImageSource[],
  views: AugmentedView[],
  extractor: FeatureExtractor,
  preparer: InputPreparer,
): Promise<{ features: Float32Array; names: string[] }> {
  const size = preparer.preprocessing.size;
  const perInput = 3 * size * size;
  const perImage = extractor.patchesPerImage * extractor.channels;
  const chunks: Float32Array[] = [];
  const names: string[] = [];
  let slot = 0;
  const flush = async () => {
    if (slot > 0) chunks.push((await extractor.extract(preparer.batch, slot)).slice(0, slot * perImage));
    slot = 0;
  };
  for (const source of sources) {
    let decoded;
    try {
      decoded = await preparer.decode(await source.read());
    } catch {
      continue;
    }
    await flush(); // the original is normalised in slot 0, so the batch must be empty
    preparer.write(decoded, 0);
    const original = preparer.batch.slice(0, perInput);
    names.push(source.name);
    for (const view of views) {
      renderView(original, 0, size, view, preparer.batch, slot * perInput);
      if (++slot === preparer.batchSize) await flush();
    }
  }
  await flush();
  const features = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    features.set(c, offset);
    offset += c.length;
  }
  return { features, names };
}
