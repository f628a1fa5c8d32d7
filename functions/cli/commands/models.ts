import type { Command } from 'commander';
import { DEFAULT_BACKBONE_ID, listBackboneIds, loadBackboneManifest } from '../../engine/backbone/backbone-manifest.ts';
import { prepareBackbone } from '../../engine/backbone/obtain-backbone.ts';
import { printJson } from '../output.ts';

export function registerModels(program: Command): void {
  program
    .command('models')
    .description('obtain backbones (local folder or download), check their digests and derive the feature models')
    .argument('[ids...]', 'backbone manifest ids or paths', [DEFAULT_BACKBONE_ID])
    .option('--list', 'only list the manifests in models/')
    .action(async (ids: string[], flags: { list?: boolean }) => {
      if (flags.list) {
        for (const id of listBackboneIds()) {
          const m = loadBackboneManifest(id);
          printJson({ id: m.id, file: m.file, sha256: m.sha256, licence: m.licence, defaultLayers: m.defaultLayers });
        }
        return;
      }
      for (const id of ids) {
        const started = performance.now();
        let last = 0;
        const backbone = await prepareBackbone({
          backbone: id,
          onDownload: (received, total) => {
            if (received - last < 1 << 20 && received !== total) return;
            last = received;
            process.stderr.write(
              `downloading ${id}: ${(received / 1e6).toFixed(1)}${total ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB\n`,
            );
          },
        });
        printJson({
          id: backbone.manifest.id,
          backbone: backbone.backbonePath,
          sha256: backbone.manifest.sha256,
          featureModel: backbone.featureModelPath,
          layers: backbone.layers.map((l) => l.tensor),
          grid: backbone.grid,
          channels: backbone.channels,
          ms: Math.round(performance.now() - started),
        });
      }
    });
}
