import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  MAX_MANIFEST_BYTES,
  MAX_MANIFEST_LINES,
  parseGroundTruthManifest,
} from '../../engine/dataset/ground-truth-manifest.ts';
import { EXIT_FAILURE, printJson } from '../output.ts';

export function registerLookoutManifest(program: Command): void {
  program
    .command('lookout-manifest')
    .description(
      `check a Lookout for Vision dataset manifest (Ground Truth JSON Lines) before importing it: its counts, or every bad line with why (exit 1); at most ${MAX_MANIFEST_LINES} lines`,
    )
    .argument('<manifest>', 'the manifest file')
    .action(async (file: string) => {
      const size = (await stat(file)).size;
      if (size > MAX_MANIFEST_BYTES) {
        printJson({
          ok: false,
          badLines: 1,
          lines: [{ line: 1, reason: `the manifest is over ${MAX_MANIFEST_BYTES} bytes` }],
        });
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const parsed = parseGroundTruthManifest(await readFile(file, 'utf8'));
      if (!parsed.ok) {
        printJson({ ok: false, badLines: parsed.errors.length, lines: parsed.errors });
        process.exitCode = EXIT_FAILURE;
        return;
      }
      const e = parsed.entries;
      printJson({
        ok: true,
        lines: e.length,
        normal: e.filter((x) => !x.anomalous).length,
        anomalous: e.filter((x) => x.anomalous).length,
        withMask: e.filter((x) => x.mask).length,
        classes: [...new Set(e.flatMap((x) => Object.keys(x.mask?.anomalyColours ?? {})))].sort(),
      });
    });
}
