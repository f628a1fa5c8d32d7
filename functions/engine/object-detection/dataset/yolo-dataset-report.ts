import { parse as parseYaml } from 'yaml';
import { ArchiveError, DatasetError } from '../../errors.ts';
import { DEFAULT_ZIP_LIMITS, readZip, type ZipLimits } from '../../archive/safe-zip.ts';
import { classOutOfRange, parseYoloLabels, type ParsedLabels } from './yolo-labels.ts';

/** Image extensions Ultralytics reads (ultralytics/data/utils.py IMG_FORMATS). */
const IMAGE_EXTENSIONS = new Set(['bmp', 'dng', 'jpeg', 'jpg', 'mpo', 'png', 'tif', 'tiff', 'webp', 'pfm', 'heic']);
const SPLIT_NAMES = new Set(['train', 'val', 'valid', 'validation', 'test']);
const DATA_FILES = new Set(['data.yaml', 'data.yml', 'dataset.yaml', 'dataset.yml']);
const HISTOGRAM_BINS = 10;

export interface YoloDatasetOptions {
  limits?: ZipLimits;
  /** Class names, when known; data.yaml's `names` otherwise. Bounds the class index of every label line. */
  classNames?: readonly string[];
  /** Largest label (or data.yaml) file read. */
  maxLabelBytes?: number;
  /** All label files together: what is parsed is kept until the end, so this bounds the memory the report takes. */
  maxLabelTotalBytes?: number;
  /** Longest list of file names (or malformed lines) in the report; the counts are always whole. */
  listLimit?: number;
}

export const DEFAULT_MAX_LABEL_BYTES = 4 * 1024 * 1024;
/** COCO's 860,000 boxes are about 35 MB of label text. */
export const DEFAULT_MAX_LABEL_TOTAL_BYTES = 64 * 1024 * 1024;
export const DEFAULT_LIST_LIMIT = 100;

export interface SplitReport {
  images: number;
  labelled_images: number;
  /** Images whose label file is empty: background images, on purpose or not. */
  background_images: number;
  boxes: number;
  images_without_labels: string[];
  images_without_labels_count: number;
  labels_without_images: string[];
  labels_without_images_count: number;
  duplicate_lines: number;
}

export interface YoloDatasetReport {
  /** The folder inside the ZIP the layout was found under ('' for the top). */
  root: string;
  class_names: string[] | null;
  /** Where class_names came from. */
  class_names_source: 'given' | 'data.yaml' | null;
  splits: Record<string, SplitReport>;
  classes: { class_index: number; name: string | null; boxes: number; images: number }[];
  /** Box sizes as sqrt(width x height) relative to the image, in bins of 0.1. */
  box_sizes: { from: number; to: number; count: number }[];
  malformed_lines: { file: string; line: number; reason: string }[];
  malformed_line_count: number;
  /** Files that are neither images nor labels in the layout (a data.yaml is not counted). */
  ignored_files: string[];
  ignored_file_count: number;
  problems: string[];
  healthy: boolean;
}

interface Located {
  root: string;
  split: string;
  kind: 'images' | 'labels';
  /** The path with the images/labels folder and the extension taken out: an image and its label share it. */
  key: string;
  extension: string;
}

/** Where a path sits in the layout: `<root>/<split>/images/...` or Ultralytics' own `<root>/images/<split>/...`. */
function locate(path: string): Located | null {
  const segments = path.split('/');
  const file = segments[segments.length - 1];
  if (segments.some((s) => s === '__MACOSX') || file.startsWith('._')) return null;
  const dot = file.lastIndexOf('.');
  if (dot <= 0) return null;
  let i = -1;
  for (let k = segments.length - 2; k >= 0; k--)
    if (segments[k] === 'images' || segments[k] === 'labels') {
      i = k;
      break;
    }
  if (i < 0) return null;
  let split: string;
  let rootEnd: number;
  if (i > 0 && SPLIT_NAMES.has(segments[i - 1])) {
    split = segments[i - 1];
    rootEnd = i - 1;
  } else if (i + 2 < segments.length) {
    split = segments[i + 1];
    rootEnd = i;
  } else {
    split = i > 0 ? segments[i - 1] : 'all';
    rootEnd = Math.max(0, i - 1);
  }
  const rest = [...segments.slice(0, i), '*', ...segments.slice(i + 1)].join('/');
  return {
    root: segments.slice(0, rootEnd).join('/'),
    split,
    kind: segments[i] as 'images' | 'labels',
    key: rest.slice(0, rest.length - (file.length - dot)),
    extension: file.slice(dot + 1).toLowerCase(),
  };
}

/** data.yaml's `names`, as a list or a map of index to name. */
function namesFromYaml(text: string): string[] {
  const doc = parseYaml(text, { maxAliasCount: 100 }) as { names?: unknown } | null;
  const names = doc?.names;
  if (Array.isArray(names)) return names.map(String);
  if (names && typeof names === 'object') {
    const entries = Object.entries(names).map(([k, v]) => [Number(k), String(v)] as const);
    if (entries.some(([k], i) => k !== i)) throw new Error('names is a map whose keys are not 0, 1, 2, ...');
    return entries.map(([, v]) => v);
  }
  throw new Error('no names list');
}

interface LabelFile {
  path: string;
  classes: number[];
  boxes: number;
}

/**
 * Reads a YOLO dataset ZIP (streamed, within the ZIP limits; images are listed, never inflated) and reports its
 * health: images without labels, labels without images, malformed lines by file and line, class counts and a
 * histogram of box sizes. A ZIP with no images or labels folder at all is DATASET_INVALID.
 */
export async function yoloDatasetReport(
  source: string | Buffer,
  options: YoloDatasetOptions = {},
): Promise<YoloDatasetReport> {
  const maxLabelBytes = options.maxLabelBytes ?? DEFAULT_MAX_LABEL_BYTES;
  const listLimit = options.listLimit ?? DEFAULT_LIST_LIMIT;
  const images = new Map<string, { path: string; split: string }[]>();
  const labels = new Map<string, { split: string; label: LabelFile }>();
  const maxLabelTotalBytes = options.maxLabelTotalBytes ?? DEFAULT_MAX_LABEL_TOTAL_BYTES;
  // Parsed as they stream in (the text is dropped); class indices are checked at the end, when data.yaml is read.
  const labelFiles: { key: string; path: string; split: string; parsed: ParsedLabels }[] = [];
  let labelBytes = 0;
  const roots = new Set<string>();
  const ignored: string[] = [];
  let dataYaml: { path: string; text: string } | undefined;

  await readZip(source, options.limits ?? DEFAULT_ZIP_LIMITS, async (entry, read) => {
    const located = locate(entry.path);
    const file = entry.path.slice(entry.path.lastIndexOf('/') + 1);
    if (!located) {
      const depth = entry.path.split('/').length;
      if (DATA_FILES.has(file.toLowerCase()) && depth <= 2 && !dataYaml)
        dataYaml = { path: entry.path, text: (await read(maxLabelBytes)).toString('utf8') };
      else ignored.push(entry.path);
      return;
    }
    if (located.kind === 'images' && IMAGE_EXTENSIONS.has(located.extension)) {
      roots.add(located.root);
      const list = images.get(located.key) ?? [];
      list.push({ path: entry.path, split: located.split });
      images.set(located.key, list);
    } else if (located.kind === 'labels' && located.extension === 'txt') {
      roots.add(located.root);
      labelBytes += entry.size;
      if (labelBytes > maxLabelTotalBytes)
        throw new ArchiveError(
          'ARCHIVE_TOO_LARGE',
          `the label files are more than ${maxLabelTotalBytes} bytes together (at ${entry.path})`,
          { entry: entry.path, limit: maxLabelTotalBytes },
        );
      const text = (await read(maxLabelBytes)).toString('utf8');
      labelFiles.push({ key: located.key, path: entry.path, split: located.split, parsed: parseYoloLabels(text) });
    } else ignored.push(entry.path);
  });

  if (images.size === 0 && labelFiles.length === 0)
    throw new DatasetError(
      'DATASET_INVALID',
      'the ZIP holds no YOLO dataset: no images or labels folders (expected train/images and train/labels, optionally val/)',
      { ignored_file_count: ignored.length },
    );

  const problems: string[] = [];
  let classNames: string[] | null = options.classNames ? [...options.classNames] : null;
  let classNamesSource: YoloDatasetReport['class_names_source'] = classNames ? 'given' : null;
  if (!classNames && dataYaml) {
    try {
      classNames = namesFromYaml(dataYaml.text);
      classNamesSource = 'data.yaml';
    } catch (error) {
      problems.push(`${dataYaml.path}: class names could not be read (${(error as Error).message})`);
    }
  }

  const splits: Record<string, SplitReport> = {};
  const splitOf = (name: string): SplitReport =>
    (splits[name] ??= {
      images: 0,
      labelled_images: 0,
      background_images: 0,
      boxes: 0,
      images_without_labels: [],
      images_without_labels_count: 0,
      labels_without_images: [],
      labels_without_images_count: 0,
      duplicate_lines: 0,
    });
  const classBoxes = new Map<number, number>();
  const classImages = new Map<number, number>();
  const histogram = new Array<number>(HISTOGRAM_BINS).fill(0);
  const malformed: YoloDatasetReport['malformed_lines'] = [];
  let malformedCount = 0;

  for (const { key, path, split, parsed: all } of labelFiles) {
    const count = classNames?.length;
    const parsed = {
      ...all,
      boxes: count === undefined ? all.boxes : all.boxes.filter((b) => b.classIndex < count),
      malformed: [
        ...all.malformed,
        ...(count === undefined
          ? []
          : all.boxes
              .filter((b) => b.classIndex >= count)
              .map((b) => ({ line: b.line, reason: classOutOfRange(b.classIndex, count) }))),
      ].sort((a, b) => a.line - b.line),
    };
    const report = splitOf(split);
    report.duplicate_lines += parsed.duplicates;
    malformedCount += parsed.malformed.length;
    for (const m of parsed.malformed) if (malformed.length < listLimit) malformed.push({ file: path, ...m });
    const classes = new Set<number>();
    for (const b of parsed.boxes) {
      classBoxes.set(b.classIndex, (classBoxes.get(b.classIndex) ?? 0) + 1);
      classes.add(b.classIndex);
      histogram[Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.sqrt(b.width * b.height) * HISTOGRAM_BINS))]++;
    }
    labels.set(key, { split, label: { path, classes: [...classes], boxes: parsed.boxes.length } });
  }

  const push = (list: string[], value: string) => list.length < listLimit && list.push(value);
  for (const [key, list] of images) {
    const label = labels.get(key);
    for (const image of list) {
      const report = splitOf(image.split);
      report.images++;
      if (!label) {
        report.images_without_labels_count++;
        push(report.images_without_labels, image.path);
        continue;
      }
      report.labelled_images++;
      if (label.label.boxes === 0) report.background_images++;
      report.boxes += label.label.boxes;
      for (const c of label.label.classes) classImages.set(c, (classImages.get(c) ?? 0) + 1);
    }
  }
  for (const [key, { split, label }] of labels)
    if (!images.has(key)) {
      const report = splitOf(split);
      report.labels_without_images_count++;
      push(report.labels_without_images, label.path);
    }

  const indices = new Set([...classBoxes.keys(), ...(classNames ? classNames.map((_, i) => i) : [])]);
  const classes = [...indices]
    .sort((a, b) => a - b)
    .map((i) => ({
      class_index: i,
      name: classNames?.[i] ?? null,
      boxes: classBoxes.get(i) ?? 0,
      images: classImages.get(i) ?? 0,
    }));

  if (roots.size > 1)
    problems.push(`the layout is found under several folders: ${[...roots].map((r) => r || '(top)').join(', ')}`);
  if (!Object.keys(splits).some((s) => s.startsWith('train')))
    problems.push('there is no train split (train/images, train/labels)');
  for (const [name, s] of Object.entries(splits)) {
    if (s.images_without_labels_count)
      problems.push(`${name}: ${s.images_without_labels_count} images without a label file`);
    if (s.labels_without_images_count)
      problems.push(`${name}: ${s.labels_without_images_count} label files without an image`);
    if (s.images > 0 && s.boxes === 0) problems.push(`${name}: no boxes at all`);
  }
  if (malformedCount) problems.push(`${malformedCount} malformed label lines`);
  for (const c of classes)
    if (classNames && c.boxes === 0) problems.push(`class ${c.class_index} (${c.name}) has no boxes`);

  return {
    root: [...roots][0] ?? '',
    class_names: classNames,
    class_names_source: classNamesSource,
    splits,
    classes,
    box_sizes: histogram.map((count, i) => ({ from: i / HISTOGRAM_BINS, to: (i + 1) / HISTOGRAM_BINS, count })),
    malformed_lines: malformed,
    malformed_line_count: malformedCount,
    ignored_files: ignored.slice(0, listLimit),
    ignored_file_count: ignored.length,
    problems,
    healthy: problems.length === 0,
  };
}
