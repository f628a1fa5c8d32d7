import { z } from 'zod';
import { webhookEventsSchema } from './events.ts';
import {
  CALIBRATED_THRESHOLD,
  DEFAULT_SEVERITY_BANDS,
  severityBandIssues,
  severityBandSchema,
  thresholdValue,
} from '../../engine/detection/detection-settings.ts';
import { inspectionSettingsSchema } from '../../engine/features/inspection-view.ts';

/**
 * What a project detects. Each kind brings its engine, its job runners and its routes (functions/service/kinds/);
 * projects stored before kinds existed read as 'anomaly'.
 */
export const PROJECT_KINDS = ['anomaly', 'classification', 'object-detection', 'sensors'] as const;
export const DEFAULT_PROJECT_KIND = 'anomaly' satisfies ProjectKind;
export const projectKindSchema = z.enum(PROJECT_KINDS).meta({
  id: 'ProjectKind',
  description:
    'What the project detects: anomaly (PatchCore image anomaly detection), classification (an ONNX image classifier, uploaded or trained from labelled folders), object-detection (an uploaded YOLO ONNX detector) or sensors (sites, assets and metrics scored online).',
});
export type ProjectKind = (typeof PROJECT_KINDS)[number];

// The bands' defaults and rules, the threshold's range and its default: the engine's detection settings own them.
export const severityBandsSchema = z
  .array(severityBandSchema)
  .min(1)
  .max(10)
  .superRefine((bands, ctx) => {
    for (const { index, message } of severityBandIssues(bands))
      ctx.addIssue({ code: 'custom', path: [index, 'below'], message });
  })
  .meta({
    id: 'SeverityBands',
    description: `Bands of the normalised score (0..1, threshold at ${CALIBRATED_THRESHOLD}), lowest first; the last has no upper bound.`,
  });

export const thresholdSchema = thresholdValue.meta({
  description: `Decision threshold on the normalised score; ${CALIBRATED_THRESHOLD} is the calibrated one.`,
});

/** Names users see and type to confirm deletion: no control characters, no slashes (they end up in object keys' metadata). */
export const projectNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}/\\]+$/u, 'letters, digits, spaces and punctuation, without slashes or control characters');

export const webhookUrlSchema = z.url({ protocol: /^https?$/ }).max(2000);

export const keepFlaggedImagesSchema = z.boolean().meta({
  description:
    'Keep the image of each flagged API detection beside its result (drop-folder images are always kept), so that a reviewed false alarm can be added to the memory bank',
});

export const createProjectSchema = z
  .object({
    name: projectNameSchema,
    kind: projectKindSchema.default(DEFAULT_PROJECT_KIND),
    description: z.string().max(2000).default(''),
    severityBands: severityBandsSchema.default(DEFAULT_SEVERITY_BANDS),
    threshold: thresholdSchema.default(CALIBRATED_THRESHOLD),
    webhookUrl: webhookUrlSchema.optional(),
    webhookEvents: webhookEventsSchema.optional(),
    keepFlaggedImages: keepFlaggedImagesSchema.default(false),
    inspection: inspectionSettingsSchema.optional(),
  })
  .strict()
  .meta({ id: 'CreateProject' });

export const updateProjectSchema = z
  .object({
    name: projectNameSchema.optional(),
    description: z.string().max(2000).optional(),
    severityBands: severityBandsSchema.optional(),
    threshold: thresholdSchema.optional(),
    webhookUrl: webhookUrlSchema.nullable().optional(),
    webhookEvents: webhookEventsSchema.optional(),
    keepFlaggedImages: keepFlaggedImagesSchema.optional(),
    inspection: inspectionSettingsSchema.optional(),
  })
  .strict()
  .meta({ id: 'UpdateProject' });

export const projectSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: projectKindSchema,
    owner: z
      .string()
      .nullable()
      .meta({ description: 'Who made it: user:SUB (a person), key:ID (an API key) or local' }),
    description: z.string(),
    severityBands: severityBandsSchema,
    threshold: thresholdSchema,
    webhookUrl: z.string().nullable(),
    webhookEvents: webhookEventsSchema,
    keepFlaggedImages: keepFlaggedImagesSchema.optional().meta({ description: 'Absent (off) on older projects' }),
    inspection: inspectionSettingsSchema
      .optional()
      .meta({ description: 'Absent: the engine default (224 px, one view); anomaly projects only' }),
    imageCount: z.number().int(),
    activeModelVersion: z.number().int().nullable(),
    latestModelVersion: z.number().int().nullable(),
    defectClassifier: z
      .string()
      .nullable()
      .optional()
      .meta({ description: 'anomaly projects: the classification project that names each region’s defect type' }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Project' });

export type Project = z.infer<typeof projectSchema>;
/** A new project as the service takes it: the API always sends a kind; callers in the service may leave it to the default. */
export type CreateProject = Omit<z.infer<typeof createProjectSchema>, 'kind' | 'keepFlaggedImages' | 'inspection'> & {
  inspection?: z.infer<typeof inspectionSettingsSchema>;
  kind?: ProjectKind;
  keepFlaggedImages?: boolean;
};
export type UpdateProject = z.infer<typeof updateProjectSchema>;
