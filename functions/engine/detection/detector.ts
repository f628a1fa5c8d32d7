import { type ArtifactManifest, modelQuality } from '../artifact/artifact-manifest.ts';
import { loadModelArtifact, type ModelArtifact } from '../artifact/model-artifact.ts';
import { prepareBackbone } from '../backbone/obtain-backbone.ts';
import { confidenceOf, normaliseMap, normaliseScore, severityOf } from '../calibration/score-scale.ts';
import { FaultlineError, InvalidOptionError, ModelArtifactError } from '../errors.ts';
import { FeatureExtractor, inspectionViewOf } from '../features/feature-extractor.ts';
import { type DecodedImage, InputPreparer } from '../features/input-preparer.ts';
import { DEFAULT_IMAGE_LIMITS, decodeForDisplay, type ImageLimits } from '../image/decode-image.ts';
import type { SessionOptions } from '../onnx/create-session.ts';
import { inputAnomalyMap, mapSize, toImageGeometry, upsampleBlurOperator } from '../scoring/anomaly-map.ts';
import { type PatchScores, PatchScorer } from '../scoring/patch-scorer.ts';
import { renderVisualizations, type Visualizations } from '../visualize/render-visualizations.ts';
import type { DetectionResult, StageTimings } from './detection-result.ts';
import {
  CALIBRATED_THRESHOLD,
  type DetectionSettings,
  detectionSettingsSchema,
  isInsideScoreRange,
} from './detection-settings.ts';
import { explainPeak } from './evidence.ts';
import { findRegions, growMask } from './regions.ts';

/** How a detector is loaded (Detector.load): its sessions, batch size and image limits. */
export interface DetectorLoadOptions {
  session?: SessionOptions;
  /** Images per backbone run in detectBatch. */
  batchSize?: number;
  limits?: ImageLimits;
}

/** Options of one detect or detectBatch call (the service's DetectOptions are its request's, a different thing). */
export interface DetectorRunOptions {
  /** Decision threshold in normalised units (0..1); default 0.5, the calibrated threshold. */
  threshold?: number;
  visualizations?: boolean;
  /** Also return the raw (un-normalised) pixel map, for evaluation. */
  rawMap?: boolean;
  /** Settings to use instead of the model's (a project's severity bands, for example). */
  settings?: DetectionSettings;
}

export interface Detection {
  result: DetectionResult;
  visualizations?: Visualizations;
  /** Raw anomaly map at the map size (the image, capped at settings.maxMapSide), and at the model input (size x size). */
  rawMap?: { data: Float32Array; width: number; height: number; input: Float32Array };
}

export interface NamedImage {
  name: string;
  bytes: Uint8Array;
}

export type BatchItem = { name: string; detection: Detection } | { name: string; error: FaultlineError };

const round = (v: number, digits = 4): number => Number(v.toFixed(digits));

/** The model's version label: the one the service gave it, else derived from the memory bank's digest. */
const modelVersionOf = (manifest: ArtifactManifest): string =>
  manifest.version ?? `${manifest.backbone.id}-${manifest.memoryBank.sha256.slice(0, 12)}`;

/**
 * A loaded model, ready to detect: the backbone session, the search session with the memory bank, and the
 * calibration. Load once, detect many times; sessions are released with release().
 */
/** Input batches a detector keeps for reuse; runs beyond these at once allocate their own. */
const MAX_FREE_BATCHES = 8;

export class Detector {
  readonly modelVersion: string;
  readonly modelQuality: DetectionResult['model_quality'];
  private readonly preparer: InputPreparer;
  /** Input batches no run holds now, kept for the next runs (a few: as many as run at once). */
  private readonly freeBatches: Float32Array[] = [];

  private constructor(
    readonly artifact: ModelArtifact,
    private readonly extractor: FeatureExtractor,
    private readonly scorer: PatchScorer,
    readonly options: DetectorLoadOptions,
  ) {
    this.modelVersion = modelVersionOf(artifact.manifest);
    const { verdict, reason } = modelQuality(artifact.manifest);
    this.modelQuality = { verdict, reason };
    this.preparer = new InputPreparer(
      artifact.manifest.preprocessing,
      options.batchSize ?? 8,
      options.limits ?? DEFAULT_IMAGE_LIMITS,
    );
  }

  get manifest(): ArtifactManifest {
    return this.artifact.manifest;
  }

  static async load(model: string | ModelArtifact, options: DetectorLoadOptions = {}): Promise<Detector> {
    const artifact = typeof model === 'string' ? await loadModelArtifact(model) : model;
    const { manifest } = artifact;
    const backbone = await prepareBackbone({
      backbone: manifest.backbone.id,
      layers: manifest.backbone.layers,
      aggregation: manifest.backbone.aggregation,
    });
    if (backbone.manifest.sha256 !== manifest.backbone.sha256) {
      throw new ModelArtifactError(
        'ARTIFACT_INCOMPATIBLE',
        `the model was trained with backbone ${manifest.backbone.id} sha256 ${manifest.backbone.sha256}, but this installation has sha256 ${backbone.manifest.sha256}`,
        { backbone: manifest.backbone.id },
      );
    }
    const extractor = await FeatureExtractor.create(backbone, options.session, inspectionViewOf(manifest));
    if (extractor.channels !== manifest.memoryBank.dims || extractor.grid !== manifest.backbone.grid) {
      await extractor.release();
      throw new ModelArtifactError(
        'ARTIFACT_INCOMPATIBLE',
        `the model's memory bank has ${manifest.memoryBank.dims} dimensions on a ${manifest.backbone.grid} grid; the backbone gives ${extractor.channels} on ${extractor.grid}`,
        {},
      );
    }
    const scorer = await PatchScorer.create(
      { data: artifact.bank, rows: manifest.memoryBank.rows, dims: manifest.memoryBank.dims, cells: artifact.cells },
      extractor.patchesPerImage,
      manifest.scoring.neighbours,
      options.session,
    );
    upsampleBlurOperator(extractor.grid, manifest.preprocessing.size, manifest.scoring.blurSigma); // built once, not on the first image
    return new Detector(artifact, extractor, scorer, options);
  }

  /** Detects one image; a bad image throws its typed error. */
  async detect(bytes: Uint8Array, options: DetectorRunOptions = {}): Promise<Detection> {
    const [item] = await this.detectBatch([{ name: '', bytes }], options);
    if ('error' in item) throw item.error;
    return item.detection;
  }

  /**
   * Detects several images with one backbone run per batchSize images. A bad image gives its error in its place and
   * does not stop the others.
   */
  async detectBatch(images: NamedImage[], options: DetectorRunOptions = {}): Promise<BatchItem[]> {
    const threshold = options.threshold ?? CALIBRATED_THRESHOLD;
    if (!isInsideScoreRange(threshold))
      throw new InvalidOptionError(`threshold must be between 0 and 1 (exclusive), got ${threshold}`, { threshold });
    const settings = options.settings ? detectionSettingsSchema.parse(options.settings) : this.manifest.settings;
    const out: BatchItem[] = [];
    for (let start = 0; start < images.length; start += this.preparer.batchSize) {
      out.push(
        ...(await this.runBatch(images.slice(start, start + this.preparer.batchSize), {
          ...options,
          threshold,
          settings,
        })),
      );
    }
    return out;
  }

  private async runBatch(
    images: NamedImage[],
    options: DetectorRunOptions & { threshold: number; settings: DetectionSettings },
  ): Promise<BatchItem[]> {
    const started = performance.now();
    // With visualizations, an image no larger than the map is shown at its own size: decoded once for both when exact.
    const displayUpTo = options.visualizations ? options.settings.maxMapSide : undefined;
    const decoded = await Promise.allSettled(images.map((image) => this.preparer.decode(image.bytes, displayUpTo)));
    const decodeMs = performance.now() - started;
    const good: { index: number; image: DecodedImage }[] = [];
    const items: (BatchItem | undefined)[] = decoded.map((d, index) => {
      if (d.status === 'fulfilled') {
        good.push({ index, image: d.value });
        return undefined;
      }
      if (d.reason instanceof FaultlineError) return { name: images[index].name, error: d.reason };
      throw d.reason;
    });
    if (good.length === 0) return items as BatchItem[];

    // Each run writes its own input batch: detections on one detector run at once (the worker's pipeline, parallel
    // requests), and the backbone may still be reading one batch while the next image is written.
    const batch = this.freeBatches.pop() ?? new Float32Array(this.preparer.batch.length);
    let t = performance.now();
    good.forEach((g, slot) => this.preparer.write(g.image, slot, batch));
    const preprocessMs = performance.now() - t;
    t = performance.now();
    let features: Float32Array;
    try {
      features = await this.extractor.extract(batch, good.length);
    } finally {
      if (this.freeBatches.length < MAX_FREE_BATCHES) this.freeBatches.push(batch);
    }
    const backboneMs = performance.now() - t;
    let searchMs = 0;
    const scores = await this.scorer.score(features, good.length, (ms) => (searchMs += ms));
    const n = good.length;
    const shared = {
      decode: decodeMs / n,
      preprocess: preprocessMs / n,
      backbone: backboneMs / n,
      search: searchMs / n,
    };
    for (let i = 0; i < n; i++) {
      const { index, image } = good[i];
      items[index] = {
        name: images[index].name,
        detection: await this.finish(images[index].bytes, image, scores[i], shared, options),
      };
    }
    return items as BatchItem[];
  }

  /** Post-processing (map, regions, evidence) and the optional visualizations of one scored image. */
  private async finish(
    bytes: Uint8Array,
    image: DecodedImage,
    scores: PatchScores,
    shared: Omit<StageTimings, 'postprocess' | 'encode'>,
    options: DetectorRunOptions & { threshold: number; settings: DetectionSettings },
  ): Promise<Detection> {
    const t = performance.now();
    const { manifest } = this;
    const { settings, threshold } = options;
    const { width, height } = image.info;
    const size = mapSize(width, height, settings.maxMapSide);
    const inputMap = inputAnomalyMap(
      scores.distances,
      manifest.backbone.grid,
      manifest.preprocessing.size,
      manifest.scoring.blurSigma,
    );
    const map = toImageGeometry(inputMap, manifest.preprocessing, size.width, size.height);
    const rawMap = options.rawMap
      ? { data: map.slice(), width: size.width, height: size.height, input: inputMap }
      : undefined;
    const grow = growMask(map, size.width, size.height, manifest.thresholds.pixel, threshold); // before normalising: it clamps low scores
    normaliseMap(map, manifest.thresholds.pixel);
    const score = normaliseScore(scores.image.score, manifest.thresholds.image);
    const isAnomalous = score >= threshold;
    // Regions only on an anomalous image: a normal verdict with boxes on it would contradict itself.
    const { regions, damagePercentage, mask } = isAnomalous
      ? findRegions(map, size.width, size.height, width, height, threshold, settings.regions, grow)
      : { regions: [], damagePercentage: 0, mask: new Uint8Array(map.length) };
    const strongest = regions[0];
    const evidence = strongest
      ? explainPeak(
          { x: ((strongest.peakX + 0.5) * width) / size.width, y: ((strongest.peakY + 0.5) * height) / size.height },
          { width, height },
          scores,
          this.artifact.sources,
          manifest,
        )
      : null;
    const postprocessMs = performance.now() - t;

    let visualizations: Visualizations | undefined;
    let encodeMs = 0;
    if (options.visualizations) {
      const e = performance.now();
      const atFullSize = size.width === width && size.height === height;
      const rgb =
        atFullSize && image.display
          ? image.display
          : await decodeForDisplay(bytes, size.width, size.height, this.preparer.limits);
      visualizations = await renderVisualizations({
        rgb,
        width: size.width,
        height: size.height,
        map,
        mask,
        boxes: regions.map((r) => r.box),
        imageWidth: width,
        imageHeight: height,
      });
      encodeMs = performance.now() - e;
    }
    const timings: StageTimings = { ...shared, postprocess: postprocessMs, encode: encodeMs };
    const totalMs = Object.values(timings).reduce((a, b) => a + b, 0);
    for (const k of Object.keys(timings) as (keyof StageTimings)[]) timings[k] = round(timings[k], 2);
    const result: DetectionResult = {
      anomaly_score: round(score),
      classification: severityOf(score, settings, threshold),
      confidence: confidenceOf(score, settings, threshold),
      is_anomalous: isAnomalous,
      threshold,
      damage_percentage: damagePercentage,
      bounding_boxes: regions.map((r) => r.box),
      evidence,
      raw_score: round(scores.image.score, 6),
      image: image.info,
      processing_time: round(totalMs / 1000, 4),
      timings_ms: timings,
      model_version: this.modelVersion,
      model_quality: this.modelQuality,
    };
    return { result, visualizations, rawMap };
  }

  async release(): Promise<void> {
    await Promise.all([this.extractor.release(), this.scorer.release()]);
  }
}
