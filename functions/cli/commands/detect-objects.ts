import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_ZIP_LIMITS } from '../../engine/archive/safe-zip.ts';
import { UploadedModelError } from '../../engine/errors.ts';
import { yoloDatasetReport } from '../../engine/object-detection/dataset/yolo-dataset-report.ts';
import { ObjectDetector } from '../../engine/object-detection/object-detector.ts';
import { DEFAULT_RENDER_MAX_SIDE, renderDetections } from '../../engine/object-detection/render-detections.ts';
import { errorJson, EXIT_FAILURE, fraction, numberOption, positiveInteger, printJson } from '../output.ts';
import { expandInputs, stemFor } from './detect.ts';

interface DetectObjectsFlags {
  model?: string;
  spec?: string;
  out?: string;
  confidence?: number;
  iou?: number;
  png: boolean;
  maxSide: number;
}

interface DatasetReportFlags {
  classes?: string;
  maxEntries: number;
  strict: boolean;
}

async function readSpec(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new UploadedModelError(
      'MODEL_SPEC_INVALID',
      `the spec ${path} cannot be read as JSON: ${(cause as Error).message}`,
      {},
      { cause },
    );
  }
}

export function registerDetectObjects(program: Command): void {
  const command = program
    .command('detect-objects')
    .description(
      'run a YOLO object detector (ONNX export + spec JSON) on images: one JSON line of boxes per image; ' +
        '"detect-objects dataset-report <zip>" checks a YOLO dataset. Training YOLO is not offered (no deep-learning trainer)',
    )
    .argument('[images...]', 'image files or folders of images')
    .option('-m, --model <file>', 'the YOLO ONNX file (v5- or v8-style output)')
    .option('-s, --spec <file>', 'the spec JSON: input name and size, layout, class names, thresholds')
    .option('-o, --out <dir>', 'folder for one JSON file and one PNG with the boxes drawn per image')
    .option('--confidence <t>', "confidence threshold (default: the spec's)", fraction('--confidence'))
    .option(
      '--iou <t>',
      "IoU threshold of non-maximum suppression (default: the spec's)",
      numberOption('--iou', (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
    )
    .option('--no-png', 'do not draw the boxes even with --out')
    .option('--max-side <px>', 'longest side of the PNG', positiveInteger('--max-side'), DEFAULT_RENDER_MAX_SIDE)
    .action(async (inputs: string[], flags: DetectObjectsFlags) => {
      if (!flags.model || !flags.spec) command.error('error: --model and --spec are required to detect objects');
      if (inputs.length === 0) command.error('error: name at least one image or folder');
      const detector = await ObjectDetector.load(flags.model!, await readSpec(flags.spec!));
      if (flags.out) await mkdir(flags.out, { recursive: true });
      const stems = new Set<string>();
      let failures = 0;
      try {
        for (const file of expandInputs(inputs)) {
          let line: Record<string, unknown>;
          try {
            const bytes = await readFile(file);
            const result = await detector.detect(bytes, { confidence: flags.confidence, iou: flags.iou });
            line = { file, ...result };
            if (flags.out) {
              const stem = stemFor(file, stems);
              if (flags.png) {
                const png = resolve(flags.out, `${stem}_bounded.png`);
                await writeFile(png, await renderDetections(bytes, result.objects, { maxSide: flags.maxSide }));
                line.png = png;
              }
              await writeFile(join(flags.out, `${stem}.json`), `${JSON.stringify(line, null, 2)}\n`);
            }
          } catch (error) {
            failures++;
            const code = (error as NodeJS.ErrnoException).code;
            line = {
              file,
              error:
                code === 'ENOENT'
                  ? { code: 'FILE_NOT_FOUND', message: (error as Error).message }
                  : code === 'EISDIR' || code === 'EACCES'
                    ? { code: 'FILE_UNREADABLE', message: (error as Error).message }
                    : errorJson(error),
            };
          }
          printJson(line);
        }
      } finally {
        await detector.release();
      }
      if (failures > 0) process.exitCode = EXIT_FAILURE;
    });

  command
    .command('dataset-report')
    .description(
      'check a YOLO dataset ZIP (train/images, train/labels, optional val/): images without labels, labels ' +
        'without images, malformed lines, class counts, box sizes; read streamed, bombs and traversal refused',
    )
    .argument('<zip>', 'the dataset ZIP')
    .option('--classes <names>', "class names, comma-separated (default: data.yaml's names when present)")
    .option(
      '--max-entries <n>',
      'most entries accepted',
      positiveInteger('--max-entries'),
      DEFAULT_ZIP_LIMITS.maxEntries,
    )
    .option('--strict', 'exit 1 when the dataset has problems', false)
    .action(async (zip: string, flags: DatasetReportFlags) => {
      const classNames = flags.classes
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const report = await yoloDatasetReport(zip, {
        classNames,
        limits: { ...DEFAULT_ZIP_LIMITS, maxEntries: flags.maxEntries },
      });
      printJson({ file: zip, ...report });
      if (flags.strict && !report.healthy) process.exitCode = EXIT_FAILURE;
    });
}
