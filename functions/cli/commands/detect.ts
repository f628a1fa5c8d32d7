import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { listImageFiles } from '../../engine/dataset/image-folder.ts';
import { CALIBRATED_THRESHOLD } from '../../engine/detection/detection-settings.ts';
import { Detector } from '../../engine/detection/detector.ts';
import { VISUALIZATION_KINDS } from '../../engine/visualize/render-visualizations.ts';
import { errorJson, EXIT_FAILURE, fraction, positiveInteger, printJson } from '../output.ts';
import { StageProgress } from '../progress.ts';

interface DetectFlags {
  model: string;
  out?: string;
  threshold?: number;
  visualizations: boolean;
  batchSize: number;
  progress: boolean;
}

/** Files named on the command line, folders expanded to the images in them. */
export function expandInputs(inputs: string[]): string[] {
  return inputs.flatMap((input) =>
    existsSync(input) && statSync(input).isDirectory() ? listImageFiles(input) : [input],
  );
}

/** A file-name stem unique within one run (two inputs may share a base name). */
export function stemFor(path: string, used: Set<string>): string {
  const base = basename(path, extname(path)).replace(/[^\w.-]+/g, '_') || 'image';
  let stem = base;
  for (let i = 2; used.has(stem); i++) stem = `${base}-${i}`;
  used.add(stem);
  return stem;
}

export function registerDetect(program: Command): void {
  program
    .command('detect')
    .description(
      'detect anomalies: one JSON line per image on stdout; with --out, visualizations and results written there',
    )
    .argument('<images...>', 'image files or folders of images')
    .requiredOption('-m, --model <dir>', 'model artifact folder (from faultline train)')
    .option('-o, --out <dir>', 'folder for the visualizations (PNG) and one JSON file per image')
    .option(
      '--threshold <t>',
      `decision threshold on the normalised score (default ${CALIBRATED_THRESHOLD}, the calibrated one)`,
      fraction('--threshold'),
    )
    .option('--no-visualizations', 'do not render images even with --out')
    .option('--batch-size <n>', 'images per backbone run', positiveInteger('--batch-size'), 8)
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (inputs: string[], flags: DetectFlags) => {
      const files = expandInputs(inputs);
      const detector = await Detector.load(flags.model, { batchSize: flags.batchSize });
      const render = Boolean(flags.out) && flags.visualizations;
      if (flags.out) await mkdir(flags.out, { recursive: true });
      const progress = new StageProgress(flags.progress && files.length > 1);
      const stems = new Set<string>();
      let failures = 0;
      try {
        for (let start = 0; start < files.length; start += flags.batchSize) {
          const chunk = files.slice(start, start + flags.batchSize);
          const read: { file: string; bytes: Uint8Array | NodeJS.ErrnoException }[] = await Promise.all(
            chunk.map(async (file) => ({ file, bytes: await readFile(file).catch((e: NodeJS.ErrnoException) => e) })),
          );
          const readable = read.filter((r): r is { file: string; bytes: Uint8Array } => r.bytes instanceof Uint8Array);
          const items = await detector.detectBatch(
            readable.map((r) => ({ name: r.file, bytes: r.bytes })),
            { threshold: flags.threshold, visualizations: render },
          );
          const byFile = new Map(items.map((item) => [item.name, item]));
          for (const { file, bytes } of read) {
            if (!(bytes instanceof Uint8Array)) {
              failures++;
              printJson({
                file,
                error: { code: bytes.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', message: bytes.message },
              });
              continue;
            }
            const item = byFile.get(file)!;
            if ('error' in item) {
              failures++;
              printJson({ file, error: errorJson(item.error) });
              continue;
            }
            const { result, visualizations } = item.detection;
            const line: Record<string, unknown> = { file, ...result };
            if (flags.out) {
              const stem = stemFor(file, stems);
              if (visualizations) {
                const written: Record<string, string> = {};
                for (const kind of VISUALIZATION_KINDS) {
                  written[kind] = resolve(flags.out, `${stem}_${kind}.png`);
                  await writeFile(written[kind], visualizations[kind]);
                }
                line.visualizations = written;
              }
              await writeFile(join(flags.out, `${stem}.json`), `${JSON.stringify(line, null, 2)}\n`);
            }
            printJson(line);
          }
          progress.update('detect', Math.min(start + flags.batchSize, files.length), files.length);
        }
      } finally {
        progress.stop();
        await detector.release();
      }
      if (failures > 0) process.exitCode = EXIT_FAILURE;
    });
}
