import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cropAroundMask } from '../classification/region-crop.ts';
import { DatasetError } from '../errors.ts';
import { imageFolder } from './image-folder.ts';
import type { ImageSource } from './image-source.ts';
import { isMvtecCategory, readMvtecCategory } from './mvtec-category.ts';

/** An image with its class. */
export interface LabelledSource {
  image: ImageSource;
  label: string;
}

/**
 * Labelled images from a folder: one sub-folder per class (images anywhere inside it), or, for an MVTec-layout
 * category, its test defect folders (every test/{defect}/ but good: the defect types).
 */
export function readLabelledFolders(root: string, options: { regions?: boolean } = {}): LabelledSource[] {
  if (isMvtecCategory(root))
    return readMvtecCategory(root)
      .test.filter((t) => t.anomalous)
      .map((t) => {
        const mask = t.mask;
        // regions: each image read as the crop around its ground-truth region, as a detected region is classified.
        if (!options.regions || !mask) return { image: t.image, label: t.defect };
        return {
          label: t.defect,
          image: { name: t.image.name, read: async () => cropAroundMask(await t.image.read(), await mask.read()) },
        };
      });
  if (options.regions)
    throw new DatasetError(
      'DATASET_INVALID',
      `${root}: region crops need an MVTec-layout category with ground-truth masks`,
      {
        path: root,
      },
    );
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new DatasetError('DATASET_INVALID', `${root} is not a folder`, { path: root });
  const classes = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  return classes.flatMap((label) => imageFolder(join(root, label), root).map((image) => ({ image, label })));
}
