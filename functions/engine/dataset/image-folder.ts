import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { DatasetError } from '../errors.ts';
import { fileImage, type ImageSource } from './image-source.ts';

/** File name endings taken as images when listing folders (the decoder still checks the content). */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.bmp', '.gif', '.avif', '.heic']);

/** Image files under dir (recursively, hidden entries skipped), sorted by path so that runs are repeatable. */
export function listImageFiles(dir: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new DatasetError('DATASET_INVALID', `${dir} is not a folder`, { path: dir });
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && IMAGE_EXTENSIONS.has(extname(entry.name).toLowerCase())) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** Image sources for every image under dir, named by their path relative to `base` with forward slashes. */
export function imageFolder(dir: string, base = dir): ImageSource[] {
  return listImageFiles(dir).map((path) => fileImage(relative(base, path).split(sep).join('/'), path));
}
