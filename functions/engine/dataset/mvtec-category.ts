import { existsSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { DatasetError } from '../errors.ts';
import { imageFolder } from './image-folder.ts';
import { fileImage, type ImageSource } from './image-source.ts';

/** A test image of an MVTec-layout category, with its label and (for defects) its mask when there is one. */
export interface LabelledImage {
  image: ImageSource;
  /** "good" or the defect type (the folder name). */
  defect: string;
  anomalous: boolean;
  mask?: ImageSource;
}

export interface MvtecCategory {
  root: string;
  train: ImageSource[];
  /** validation/good when present. */
  validation: ImageSource[];
  test: LabelledImage[];
}

export const isMvtecCategory = (dir: string): boolean => existsSync(join(dir, 'train', 'good'));

/**
 * Reads an MVTec AD layout: train/good, optional validation/good, test/{good,DEFECT}, and
 * ground_truth/DEFECT/NAME_mask.png masks.
 */
export function readMvtecCategory(root: string): MvtecCategory {
  if (!isMvtecCategory(root)) {
    throw new DatasetError('DATASET_INVALID', `${root} is not an MVTec-layout category (no train/good folder)`, {
      path: root,
    });
  }
  const train = imageFolder(join(root, 'train', 'good'), root);
  const validationDir = join(root, 'validation', 'good');
  const validation = existsSync(validationDir) ? imageFolder(validationDir, root) : [];
  const test: LabelledImage[] = [];
  const testDir = join(root, 'test');
  if (existsSync(testDir)) {
    for (const defect of readdirSync(testDir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort()) {
      for (const image of imageFolder(join(testDir, defect), root)) {
        const stem = basename(image.name, extname(image.name));
        const maskPath = join(root, 'ground_truth', defect, `${stem}_mask.png`);
        const anomalous = defect !== 'good';
        test.push({
          image,
          defect,
          anomalous,
          mask:
            anomalous && existsSync(maskPath)
              ? fileImage(`ground_truth/${defect}/${stem}_mask.png`, maskPath)
              : undefined,
        });
      }
    }
  }
  return { root, train, validation, test };
}
