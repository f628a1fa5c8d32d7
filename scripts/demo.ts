/**
 * The engine end to end on real images: trains PatchCore on a category's normal images, detects a few test images,
 * and writes the results and visualizations to out/demo/. Usage: npm run demo [-- CATEGORY_DIR]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { saveModelArtifact } from '../functions/engine/artifact/model-artifact.ts';
import { readMvtecCategory } from '../functions/engine/dataset/mvtec-category.ts';
import { Detector } from '../functions/engine/detection/detector.ts';
import { sharedDir } from '../functions/engine/paths.ts';
import { train } from '../functions/engine/training/train.ts';
import { VISUALIZATION_KINDS } from '../functions/engine/visualize/render-visualizations.ts';
import { StageProgress } from '../functions/cli/progress.ts';

const root = resolve(process.argv[2] ?? join(sharedDir(), 'datasets', 'cookie'));
const out = resolve('out', 'demo');
const category = readMvtecCategory(root);
console.log(`Training on ${category.train.length} normal images of ${root}`);
const progress = new StageProgress();
const { artifact, report } = await train(category.train, {
  calibrationImages: category.validation.length ? category.validation : undefined,
  onProgress: (p) => progress.update(p.stage, p.done, p.total),
});
progress.stop();
await saveModelArtifact(join(out, 'model'), artifact);
console.log(
  `Model: ${report.bankRows} bank rows from ${report.trainImages} images in ${(report.timingsMs.total / 1000).toFixed(1)} s -> ${join(out, 'model')}`,
);

// Defects with ground-truth masks first: those are the labelled ones, worth looking at.
const defective = category.test.filter((t) => t.anomalous && t.mask).slice(0, 3);
const good = category.test.filter((t) => !t.anomalous).slice(0, 2);
const detector = await Detector.load(artifact);
const rows: string[][] = [];
for (const item of [...defective, ...good]) {
  const { result, visualizations } = await detector.detect(await item.image.read(), { visualizations: true });
  const stem = item.image.name.replace(/[^\w.-]+/g, '_').replace(/\.\w+$/, '');
  await mkdir(out, { recursive: true });
  for (const kind of VISUALIZATION_KINDS) await writeFile(join(out, `${stem}_${kind}.png`), visualizations![kind]);
  await writeFile(join(out, `${stem}.json`), `${JSON.stringify(result, null, 2)}\n`);
  const box = result.bounding_boxes[0];
  rows.push([
    item.image.name,
    item.defect,
    result.anomaly_score.toFixed(3),
    result.classification,
    String(result.bounding_boxes.length),
    box ? `${box.x},${box.y} ${box.width}x${box.height}` : '-',
    result.evidence ? `${result.evidence.nearest_normal.image}` : '-',
    `${(result.processing_time * 1000).toFixed(0)} ms`,
  ]);
}
await detector.release();
const header = ['image', 'truth', 'score', 'band', 'boxes', 'strongest box', 'nearest normal patch from', 'time'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
console.log(`\nResults and visualizations (heatmap, overlay, mask, filtered, bounded) are in ${out}`);
