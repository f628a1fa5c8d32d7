import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
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
export function readLabelledFolders(root: string): LabelledSource[] {
  if (isMvtecCategory(root))
    return readMvtecCategory(root)
      .test.filter((t) => t.anomalous)
      .map((t) => ({ image: t.image, label: t.defect }));
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new DatasetError('DATASET_INVALID', `${root} is not a folder`, { path: root });
  const classes = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  return classes.flatMap((label) => imageFolder(join(root, label), root).map((image) => ({ image, label })));
}
