import { z } from 'zod';

/**
 * A Lookout for Vision dataset manifest: SageMaker Ground Truth JSON Lines, one image a line, with `source-ref`, the
 * `anomaly-label` classification (0 normal, 1 anomaly, named again by its metadata's class-name) and, for anomalies,
 * an optional `anomaly-mask-ref` segmentation whose colours the `internal-color-map` of its metadata names.
 */
export interface ManifestEntry {
  /** 1-based line number in the manifest. */
  line: number;
  sourceRef: string;
  anomalous: boolean;
  mask?: {
    ref: string;
    /** Colours (#rrggbb, lower case) of the anomaly classes, by class name; the background class is left out. */
    anomalyColours: Record<string, string>;
  };
}

export interface ManifestLineError {
  line: number;
  reason: string;
}

/** Most lines a manifest may have: a training job evaluates at most what is imported, and a manifest is read whole. */
export const MAX_MANIFEST_LINES = 20_000;

/** Largest manifest read, by the service and the CLI (a line is a few hundred bytes: far more than the lines allowed). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const HEX = /^#[0-9a-fA-F]{6}$/;
const CLASS_OF = { 0: 'normal', 1: 'anomaly' } as const;

const colourMapSchema = z.record(
  z.string().regex(/^\d{1,3}$/, 'colour map keys are class numbers'),
  z.object({ 'class-name': z.string().min(1).max(200), 'hex-color': z.string().regex(HEX, 'a #rrggbb colour') }),
);

const lineSchema = z.object({
  'source-ref': z.string().min(1).max(1024),
  'anomaly-label': z.union([z.literal(0), z.literal(1)], { error: 'anomaly-label must be 0 (normal) or 1 (anomaly)' }),
  'anomaly-label-metadata': z.object(
    { 'class-name': z.enum(['normal', 'anomaly'], { error: 'class-name must be "normal" or "anomaly"' }) },
    { error: 'anomaly-label-metadata (with class-name) is missing' },
  ),
  'anomaly-mask-ref': z.string().min(1).max(1024).optional(),
  'anomaly-mask-ref-metadata': z.object({ 'internal-color-map': colourMapSchema }).optional(),
});

const isBackground = (name: string) => name.toLowerCase() === 'background';

function reasonOf(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}

/** One line as an entry, or why it cannot be one. */
function parseLine(text: string, line: number): ManifestEntry | ManifestLineError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, reason: 'not valid JSON' };
  }
  const parsed = lineSchema.safeParse(value);
  if (!parsed.success) return { line, reason: reasonOf(parsed.error) };
  const v = parsed.data;
  const anomalous = v['anomaly-label'] === 1;
  if (v['anomaly-label-metadata']['class-name'] !== CLASS_OF[v['anomaly-label']])
    return {
      line,
      reason: `anomaly-label ${v['anomaly-label']} contradicts its class-name "${v['anomaly-label-metadata']['class-name']}"`,
    };
  const maskRef = v['anomaly-mask-ref'];
  if (!maskRef) {
    if (v['anomaly-mask-ref-metadata']) return { line, reason: 'anomaly-mask-ref-metadata without anomaly-mask-ref' };
    return { line, sourceRef: v['source-ref'], anomalous };
  }
  if (!anomalous) return { line, reason: 'a normal image with an anomaly mask (anomaly-mask-ref)' };
  const map = v['anomaly-mask-ref-metadata']?.['internal-color-map'];
  if (!map) return { line, reason: 'anomaly-mask-ref without anomaly-mask-ref-metadata.internal-color-map' };
  const anomalyColours: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const c of Object.values(map)) {
    const colour = c['hex-color'].toLowerCase();
    const earlier = seen.get(colour);
    if (earlier !== undefined && earlier !== c['class-name'])
      return { line, reason: `the colour map gives ${colour} to both "${earlier}" and "${c['class-name']}"` };
    seen.set(colour, c['class-name']);
    if (!isBackground(c['class-name'])) anomalyColours[c['class-name']] = colour;
  }
  if (Object.keys(anomalyColours).length === 0)
    return { line, reason: 'the colour map names no anomaly class (only BACKGROUND)' };
  return { line, sourceRef: v['source-ref'], anomalous, mask: { ref: maskRef, anomalyColours } };
}

/**
 * Every line of a manifest as an entry, or, when any line is bad, every bad line with its reason (nothing is half
 * taken). Blank lines are skipped; an image named twice is an error on its second line.
 */
export function parseGroundTruthManifest(
  text: string,
): { ok: true; entries: ManifestEntry[] } | { ok: false; errors: ManifestLineError[] } {
  const lines = text.split(/\r?\n/);
  const entries: ManifestEntry[] = [];
  const errors: ManifestLineError[] = [];
  const firstLine = new Map<string, number>();
  let counted = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    if (++counted > MAX_MANIFEST_LINES) {
      errors.push({ line: i + 1, reason: `more than ${MAX_MANIFEST_LINES} images in one manifest` });
      break;
    }
    const entry = parseLine(lines[i], i + 1);
    if (!('sourceRef' in entry)) {
      errors.push(entry);
      continue;
    }
    const earlier = firstLine.get(entry.sourceRef);
    if (earlier !== undefined) {
      errors.push({ line: i + 1, reason: `source-ref ${entry.sourceRef} is already on line ${earlier}` });
      continue;
    }
    firstLine.set(entry.sourceRef, i + 1);
    entries.push(entry);
  }
  if (counted === 0) errors.push({ line: 1, reason: 'the manifest has no lines' });
  return errors.length ? { ok: false, errors } : { ok: true, entries };
}
