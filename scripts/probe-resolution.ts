import sharp from 'sharp';
import { readMvtecCategory } from '../functions/engine/dataset/mvtec-category.ts';
import { memoryImage, type ImageSource } from '../functions/engine/dataset/image-source.ts';
import { Detector } from '../functions/engine/detection/detector.ts';
import { InvalidOptionError } from '../functions/engine/errors.ts';
import { auroc } from '../functions/engine/math/auroc.ts';
import { seededRandom } from '../functions/engine/math/random.ts';
import { type TrainOptions, train } from '../functions/engine/training/train.ts';

/**
 * An experiment for issue 19, not a setting (README, "Choosing the resolution from normal images"): can the inspected
 * resolution be chosen from normal images only?
 *
 *     npx tsx scripts/probe-resolution.ts ../shared/datasets/tire [seeds, default 0,1]
 *
 * The probe, tried as a rule for a `--resolution auto`: A few training images are held out,
 * synthetic defects are painted into copies of them, and a model at each candidate resolution (trained on the rest)
 * scores the copies against the clean images; the rule keeps the finer view where it sees small defects better
 * without seeing large ones worse (a 224 px tile of a large image loses the context large defects stand out in).
 * Measured 2026-12-02 it was not stable enough to ship: cookie, where 448 loses 0.05 on the real defects, got 224
 * with one seed and 448 with the next (the large-defect AUROC moves by as much as the rule's margin between seeds).
 */
export const AUTO_RESOLUTION_CANDIDATES = [224, 448] as const;

/** Defects a few pixels wide, and defects spanning a tenth to a half of the image. */
export const SMALL_DEFECTS = ['scratch', 'blob'] as const;
export const LARGE_DEFECTS = ['bigblob', 'longscratch'] as const;
export type SyntheticDefect = (typeof SMALL_DEFECTS)[number] | (typeof LARGE_DEFECTS)[number];

/** Large-defect AUROC a finer view may lose against the coarser one and still be chosen (the probe's noise). */
export const LARGE_DEFECT_TOLERANCE = 0.02;
/** Normal images held out (clean and painted), at most a third of them; the rest, up to PROBE_TRAIN_IMAGES, train. */
export const PROBE_HELD_OUT = 10;
export const PROBE_TRAIN_IMAGES = 40;
export const MIN_AUTO_IMAGES = 6;
/** Painted copies of each held-out image per defect kind. */
const COPIES = 4;

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/**
 * Paints one synthetic defect into the image in place, at a random place away from the border (a centre crop must
 * keep it in view): a scratch (8 % of the short side, 1.5 px wide at least) or small blob (radius 2 %), shifted by 2
 * standard deviations of the image's intensity, or a large blob (radius 8 %, 1 sd) or long scratch (40 %, 2 sd). The
 * shift goes towards the far end of the range from what it covers (bright on dark, dark on bright).
 */
export function paintSyntheticDefect(image: RawImage, kind: SyntheticDefect, random: () => number): void {
  const { data, width: w, height: h, channels: c } = image;
  let sum = 0;
  let squares = 0;
  for (const v of data) {
    sum += v;
    squares += v * v;
  }
  const mean = sum / data.length;
  const sd = Math.sqrt(Math.max(1, squares / data.length - mean * mean));
  const short = Math.min(w, h);
  const cx = w * (0.15 + 0.7 * random());
  const cy = h * (0.15 + 0.7 * random());
  let inside: (x: number, y: number) => boolean;
  if (kind === 'blob' || kind === 'bigblob') {
    const r = Math.max(1.5, (kind === 'bigblob' ? 0.08 : 0.02) * short);
    inside = (x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
  } else {
    const length = (kind === 'longscratch' ? 0.4 : 0.08) * short;
    const angle = random() * Math.PI;
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
    const halfWidth = Math.max(0.75, 0.004 * short);
    inside = (x, y) =>
      Math.abs((x - cx) * dx + (y - cy) * dy) <= length / 2 && Math.abs(-(x - cx) * dy + (y - cy) * dx) <= halfWidth;
  }
  const pixels: number[] = [];
  let covered = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      if (inside(x + 0.5, y + 0.5)) {
        pixels.push(y * w + x);
        for (let k = 0; k < c; k++) covered += data[(y * w + x) * c + k];
      }
  const local = covered / Math.max(1, pixels.length * c);
  const delta = (local < 128 ? 1 : -1) * (kind === 'bigblob' ? 1 : 2) * sd;
  for (const p of pixels)
    for (let k = 0; k < c; k++) data[p * c + k] = Math.max(0, Math.min(255, Math.round(data[p * c + k] + delta)));
}

export interface ResolutionProbe {
  resolution: number;
  /** AUROC of the painted copies against the clean held-out images, per size class. */
  small: number;
  large: number;
}

/**
 * The resolution to inspect at: the finest candidate that separates small defects better than the coarsest without
 * losing more than LARGE_DEFECT_TOLERANCE on large ones; else the coarsest (cheapest).
 */
export function decideResolution(probes: ResolutionProbe[]): number {
  const sorted = [...probes].sort((a, b) => a.resolution - b.resolution);
  const base = sorted[0];
  const better = sorted.slice(1).filter((p) => p.small > base.small && p.large >= base.large - LARGE_DEFECT_TOLERANCE);
  return (better.at(-1) ?? base).resolution;
}

/** `count` of `items` spread evenly over them (every k-th), in order. */
export function spreadPick<T>(items: T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor(((i + 0.5) * items.length) / count)]);
}

export interface ResolutionChoice {
  resolution: number;
  probes: ResolutionProbe[];
  heldOut: number;
  trainImages: number;
  syntheticImages: number;
  ms: number;
}

async function paintedCopies(held: ImageSource[], random: () => number) {
  const small: ImageSource[] = [];
  const large: ImageSource[] = [];
  for (const source of held) {
    const decoded = await sharp(await source.read())
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    for (const kind of [...SMALL_DEFECTS, ...LARGE_DEFECTS])
      for (let copy = 0; copy < COPIES; copy++) {
        const image: RawImage = {
          data: new Uint8Array(decoded.data),
          width: decoded.info.width,
          height: decoded.info.height,
          channels: decoded.info.channels,
        };
        paintSyntheticDefect(image, kind, random);
        const png = await sharp(image.data, {
          raw: { width: image.width, height: image.height, channels: image.channels as 3 },
        })
          .png()
          .toBuffer();
        const target = (SMALL_DEFECTS as readonly string[]).includes(kind) ? small : large;
        target.push(memoryImage(`${source.name}#${kind}-${copy}`, new Uint8Array(png)));
      }
  }
  return { small, large };
}

/** Probes every candidate resolution on the normal images (see the module's comment) and decides. */
export async function chooseResolution(images: ImageSource[], options: TrainOptions = {}): Promise<ResolutionChoice> {
  if (images.length < MIN_AUTO_IMAGES)
    throw new InvalidOptionError(
      `resolution auto needs at least ${MIN_AUTO_IMAGES} normal images to hold some out; got ${images.length}`,
      { images: images.length },
    );
  const started = performance.now();
  const held = spreadPick(images, Math.min(PROBE_HELD_OUT, Math.floor(images.length / 3)));
  const heldNames = new Set(held);
  const rest = spreadPick(
    images.filter((i) => !heldNames.has(i)),
    PROBE_TRAIN_IMAGES,
  );
  const painted = await paintedCopies(held, seededRandom((options.seed ?? 0) + 7));
  const bytesOf = async (sources: ImageSource[]) =>
    Promise.all(sources.map(async (s) => ({ name: s.name, bytes: await s.read() })));
  const [clean, small, large] = await Promise.all([bytesOf(held), bytesOf(painted.small), bytesOf(painted.large)]);
  const probes: ResolutionProbe[] = [];
  for (const resolution of AUTO_RESOLUTION_CANDIDATES) {
    const { artifact } = await train(rest, {
      ...options,
      resolution,
      resizeTo: undefined,
      coresetRatio: undefined,
      calibrationImages: held,
      anomalousImages: undefined,
      onProgress: undefined,
    });
    const detector = await Detector.load(artifact, { session: options.session, batchSize: options.batchSize });
    try {
      const scores = async (set: { name: string; bytes: Uint8Array }[]) =>
        (await detector.detectBatch(set)).map((item) => {
          if ('error' in item) throw item.error;
          return item.detection.result.raw_score;
        });
      const normal = await scores(clean);
      probes.push({
        resolution,
        small: auroc(await scores(small), normal),
        large: auroc(await scores(large), normal),
      });
    } finally {
      await detector.release();
    }
  }
  return {
    resolution: decideResolution(probes),
    probes,
    heldOut: held.length,
    trainImages: rest.length,
    syntheticImages: painted.small.length + painted.large.length,
    ms: Math.round(performance.now() - started),
  };
}

const [root, seedList = '0,1'] = process.argv.slice(2);
if (!root) {
  process.stderr.write('usage: npx tsx scripts/probe-resolution.ts CATEGORY_DIR [seeds, comma-separated]\n');
  process.exit(2);
}
const images = readMvtecCategory(root).train;
for (const seed of seedList.split(',').map(Number)) {
  const choice = await chooseResolution(images, { seed });
  process.stdout.write(`${JSON.stringify({ category: root, seed, ...choice })}\n`);
}
