import { z } from 'zod';
import type { ModelArtifact } from '../../engine/artifact/model-artifact.ts';
import type { LabelledImage } from '../../engine/dataset/mvtec-category.ts';
import { Detector } from '../../engine/detection/detector.ts';
import { scoreLabelledImages } from '../../engine/evaluation/score-labelled-images.ts';
import { evaluationSetKey } from '../object-keys.ts';
import type { Services } from '../services.ts';

/** Which manifest an item came from: a Lookout for Vision project's training or test dataset. */
export const DATASET_TYPES = ['train', 'test'] as const;
export type DatasetType = (typeof DATASET_TYPES)[number];

/** Most images an evaluation set holds: the training job scores all of them, so this bounds its time and memory. */
export const MAX_EVALUATION_IMAGES = 500;

const itemSchema = z.object({
  line: z.number().int().positive(),
  sourceRef: z.string(),
  dataset: z.enum(DATASET_TYPES),
  importId: z.string(),
  imageKey: z.string(),
  anomalous: z.boolean(),
  /** "good", or the anomaly classes the mask covers ("+"-joined), or "anomaly" without a mask. */
  defect: z.string(),
  maskKey: z.string().optional(),
});

export const evaluationSetSchema = z.object({
  updatedAt: z.iso.datetime(),
  items: z.array(itemSchema).max(MAX_EVALUATION_IMAGES),
});

export type EvaluationSet = z.infer<typeof evaluationSetSchema>;
export type EvaluationItem = z.infer<typeof itemSchema>;

/** The project's labelled evaluation set; empty when none was imported. */
export async function readEvaluationSet(s: Services, projectId: string): Promise<EvaluationSet> {
  const bytes = await s.objects.get(evaluationSetKey(projectId));
  if (!bytes) return { updatedAt: new Date(0).toISOString(), items: [] };
  return evaluationSetSchema.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
}

export async function writeEvaluationSet(s: Services, projectId: string, set: EvaluationSet): Promise<void> {
  await s.objects.put(evaluationSetKey(projectId), JSON.stringify(set), 'application/json');
}

/** What a model measured on the project's evaluation set; figures that cannot be had from it are left out. */
export interface EvaluationSetMetrics {
  images: number;
  good: number;
  anomalous: number;
  withMask: number;
  imageAuroc?: number;
  f1?: number;
  precision?: number;
  recall?: number;
  pixelAuroc?: number;
  maskIou?: number;
}

const finite = (v: number): number | undefined => (Number.isFinite(v) ? v : undefined);

/**
 * Scores the project's evaluation set with a freshly trained model (in the training job; the set is at most
 * MAX_EVALUATION_IMAGES): undefined when the project has none.
 */
export async function evaluateOnEvaluationSet(
  s: Services,
  projectId: string,
  artifact: ModelArtifact,
  onProgress: (done: number, total: number) => void,
): Promise<EvaluationSetMetrics | undefined> {
  // An import that replaces the set meanwhile deletes the images the set read before named: read it again, once.
  for (let attempt = 0; ; attempt++) {
    try {
      return await evaluateOnce(s, projectId, artifact, onProgress);
    } catch (error) {
      if (!(error instanceof EvaluationObjectGone) || attempt > 0) throw error;
    }
  }
}

class EvaluationObjectGone extends Error {
  override name = 'EvaluationObjectGone';
}

async function evaluateOnce(
  s: Services,
  projectId: string,
  artifact: ModelArtifact,
  onProgress: (done: number, total: number) => void,
): Promise<EvaluationSetMetrics | undefined> {
  const set = await readEvaluationSet(s, projectId);
  if (set.items.length === 0) return undefined;
  const read = (key: string) => async () => {
    const bytes = await s.objects.get(key);
    if (!bytes) throw new EvaluationObjectGone(`evaluation object ${key} is gone`);
    return bytes;
  };
  const test: LabelledImage[] = set.items.map((item) => ({
    image: { name: item.imageKey, read: read(item.imageKey) },
    defect: item.defect,
    anomalous: item.anomalous,
    ...(item.maskKey ? { mask: { name: item.maskKey, read: read(item.maskKey) } } : {}),
  }));
  const detector = await Detector.load(artifact);
  try {
    const scored = await scoreLabelledImages(detector, artifact, test, onProgress);
    const figures = {
      imageAuroc: finite(scored.imageAuroc),
      // With no normal image in the set, no prediction can be a false alarm: precision says nothing then.
      precision: scored.counts.good > 0 && scored.counts.anomalous > 0 ? scored.precision : undefined,
      f1: scored.counts.good > 0 && scored.counts.anomalous > 0 ? finite(scored.f1) : undefined,
      recall: scored.counts.anomalous > 0 ? scored.recall : undefined,
      pixelAuroc: finite(scored.pixelAuroc),
      maskIou: finite(scored.maskIou),
    };
    return {
      images: scored.counts.test,
      good: scored.counts.good,
      anomalous: scored.counts.anomalous,
      withMask: scored.counts.withMask,
      ...Object.fromEntries(Object.entries(figures).filter(([, v]) => v !== undefined)),
    };
  } finally {
    await detector.release();
  }
}
