import { z } from 'zod';

/** The health report of a YOLO dataset ZIP (functions/engine/object-detection/dataset/yolo-dataset-report.ts). */
const splitReportSchema = z.object({
  images: z.number().int(),
  labelled_images: z.number().int(),
  background_images: z.number().int().meta({ description: 'Images whose label file is empty' }),
  boxes: z.number().int(),
  images_without_labels: z.array(z.string()),
  images_without_labels_count: z.number().int(),
  labels_without_images: z.array(z.string()),
  labels_without_images_count: z.number().int(),
  duplicate_lines: z.number().int(),
});

export const yoloDatasetReportSchema = z
  .object({
    root: z.string().meta({ description: 'The folder inside the ZIP the layout was found under' }),
    class_names: z.array(z.string()).nullable(),
    class_names_source: z.enum(['given', 'data.yaml']).nullable(),
    splits: z.record(z.string(), splitReportSchema),
    classes: z.array(
      z.object({
        class_index: z.number().int(),
        name: z.string().nullable(),
        boxes: z.number().int(),
        images: z.number().int(),
      }),
    ),
    box_sizes: z
      .array(z.object({ from: z.number(), to: z.number(), count: z.number().int() }))
      .meta({ description: 'Box sizes as sqrt(width × height) relative to the image, in bins of 0.1' }),
    malformed_lines: z.array(z.object({ file: z.string(), line: z.number().int(), reason: z.string() })),
    malformed_line_count: z.number().int(),
    ignored_files: z.array(z.string()),
    ignored_file_count: z.number().int(),
    problems: z.array(z.string()),
    healthy: z.boolean(),
  })
  .meta({ id: 'YoloDatasetReport' });

export const yoloDatasetRecordSchema = z
  .object({
    datasetId: z.string(),
    projectId: z.string(),
    name: z.string().meta({ description: 'The uploaded file’s name' }),
    bytes: z.number().int(),
    sha256: z.string(),
    createdAt: z.iso.datetime(),
    zipKey: z.string().meta({ description: 'Object key of the stored ZIP' }),
    report: yoloDatasetReportSchema,
  })
  .meta({ id: 'YoloDataset' });

export type YoloDatasetRecord = z.infer<typeof yoloDatasetRecordSchema>;
