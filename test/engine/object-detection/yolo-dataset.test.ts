import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ZIP_LIMITS } from '../../../functions/engine/archive/safe-zip.ts';
import { FaultlineError } from '../../../functions/engine/errors.ts';
import { yoloDatasetReport } from '../../../functions/engine/object-detection/dataset/yolo-dataset-report.ts';
import { parseYoloLabels } from '../../../functions/engine/object-detection/dataset/yolo-labels.ts';
import { buildZip, declareUncompressedSize, GOOD_DATASET, IMAGE_BYTES, renameInZip } from './zips.ts';

const pixels = IMAGE_BYTES;

async function expectCode(promise: Promise<unknown>, code: string, fragment?: string): Promise<FaultlineError> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as FaultlineError;
  expect(error).toBeInstanceOf(FaultlineError);
  expect(error.code).toBe(code);
  if (fragment) expect(error.message).toContain(fragment);
  return error;
}

describe('yoloDatasetReport', () => {
  it('reports images without labels, labels without images, malformed lines by file and line, classes and sizes', async () => {
    const report = await yoloDatasetReport(await buildZip(GOOD_DATASET));
    expect(report.class_names).toEqual(['scratch', 'dent']);
    expect(report.class_names_source).toBe('data.yaml');
    expect(report.splits.train).toEqual({
      images: 3,
      labelled_images: 2,
      background_images: 1,
      boxes: 2,
      images_without_labels: ['train/images/c.png'],
      images_without_labels_count: 1,
      labels_without_images: ['train/labels/d.txt'],
      labels_without_images_count: 1,
      duplicate_lines: 1,
    });
    expect(report.splits.val).toMatchObject({ images: 1, labelled_images: 1, boxes: 2 });
    expect(report.malformed_lines).toEqual([
      { file: 'val/labels/v.txt', line: 2, reason: expect.stringContaining('expected 5 values') },
      { file: 'val/labels/v.txt', line: 3, reason: 'class 7 is not among the 2 classes named (0 to 1)' },
    ]);
    expect(report.malformed_line_count).toBe(2);
    // Boxes: a 0.2 (sqrt 0.04), a 0.05, d 0.9 (its image is missing, still a label), v 0.4, the polygon 0.2 x 0.2.
    expect(report.classes).toEqual([
      { class_index: 0, name: 'scratch', boxes: 3, images: 2 },
      { class_index: 1, name: 'dent', boxes: 2, images: 2 },
    ]);
    expect(report.box_sizes.map((b) => b.count)).toEqual([1, 0, 2, 0, 1, 0, 0, 0, 0, 1]);
    expect(report.ignored_files).toEqual(['README.md', '__MACOSX/train/images/._a.jpg']);
    expect(report.healthy).toBe(false);
    expect(report.problems).toEqual([
      'train: 1 images without a label file',
      'train: 1 label files without an image',
      '2 malformed label lines',
    ]);
  });

  it('reads a healthy dataset in Ultralytics own layout (images/train) under a top folder, streamed from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-yolo-'));
    try {
      const path = join(dir, 'data.zip');
      await writeFile(
        path,
        await buildZip({
          'coco8/images/train/x.jpg': pixels,
          'coco8/labels/train/x.txt': '0 0.5 0.5 0.5 0.5\n',
          'coco8/images/val/y.jpg': pixels,
          'coco8/labels/val/y.txt': '0 0.5 0.5 0.5 0.5\n',
        }),
      );
      const report = await yoloDatasetReport(path, { classNames: ['person'] });
      expect(report).toMatchObject({ root: 'coco8', class_names_source: 'given', healthy: true, problems: [] });
      expect(Object.keys(report.splits).sort()).toEqual(['train', 'val']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a ZIP without the layout, and what is not a ZIP', async () => {
    await expectCode(yoloDatasetReport(await buildZip({ 'a/b.jpg': pixels })), 'DATASET_INVALID', 'train/images');
    await expectCode(yoloDatasetReport(Buffer.from('not a zip at all, honestly')), 'ARCHIVE_INVALID');
  });
});

describe('YOLO dataset ZIP limits', () => {
  const limits = (over: Partial<typeof DEFAULT_ZIP_LIMITS>) => ({ limits: { ...DEFAULT_ZIP_LIMITS, ...over } });

  it('refuses a zip bomb by its compression ratio before inflating it', async () => {
    const bomb = await buildZip({ 'train/labels/a.txt': Buffer.alloc(8 * 1024 * 1024) });
    const error = await expectCode(yoloDatasetReport(bomb), 'ARCHIVE_UNSAFE', 'zip bomb');
    expect(error.details.entry).toBe('train/labels/a.txt');
  });

  it('refuses an entry that inflates past the size it declares', async () => {
    const lines = '0 0.5 0.5 0.1 0.1\n'.repeat(20_000);
    const lying = declareUncompressedSize(
      await buildZip({ 'train/labels/a.txt': lines, 'train/images/a.jpg': pixels }),
      100,
    );
    await expectCode(yoloDatasetReport(lying), 'ARCHIVE_UNSAFE', 'train/labels/a.txt');
  });

  it('refuses entries with a path leaving the archive or an absolute path', async () => {
    const base = { 'train/images/a.jpg': pixels };
    const dotdot = renameInZip(await buildZip({ ...base, 'xx/evil.txt': 'x' }), 'xx/evil.txt', '../evil.txt');
    await expectCode(yoloDatasetReport(dotdot), 'ARCHIVE_UNSAFE', '"../evil.txt" has a path leaving the archive');
    const nested = renameInZip(
      await buildZip({ ...base, 'train/xx/xx/a.txt': 'x' }),
      'train/xx/xx/a.txt',
      'train/../../a.txt',
    );
    await expectCode(yoloDatasetReport(nested), 'ARCHIVE_UNSAFE', 'leaving the archive');
    const absolute = renameInZip(await buildZip({ ...base, 'Zetc/passwd': 'x' }), 'Zetc/passwd', '/etc/passwd');
    await expectCode(yoloDatasetReport(absolute), 'ARCHIVE_UNSAFE', 'an absolute path');
    const backslash = renameInZip(await buildZip({ ...base, 'xx_evil.txt': 'x' }), 'xx_evil.txt', '..\\evil.txt');
    await expectCode(yoloDatasetReport(backslash), 'ARCHIVE_UNSAFE', 'leaving the archive');
  });

  it('refuses too many entries, too large an entry, too much in all, too large an archive, too many label bytes', async () => {
    const files = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`train/images/${i}.jpg`, pixels]));
    await expectCode(
      yoloDatasetReport(await buildZip(files), limits({ maxEntries: 10 })),
      'ARCHIVE_TOO_LARGE',
      '11 entries',
    );
    const big = await buildZip(
      { 'train/images/a.jpg': Buffer.alloc(5000, 7), 'train/images/b.jpg': Buffer.alloc(5000, 7) },
      false,
    );
    await expectCode(
      yoloDatasetReport(big, limits({ maxEntryBytes: 4000 })),
      'ARCHIVE_TOO_LARGE',
      'train/images/a.jpg',
    );
    await expectCode(yoloDatasetReport(big, limits({ maxTotalBytes: 8000 })), 'ARCHIVE_TOO_LARGE', 'together');
    await expectCode(yoloDatasetReport(big, limits({ maxArchiveBytes: 1000 })), 'ARCHIVE_TOO_LARGE', 'the archive is');
    const label = await buildZip({ 'train/labels/a.txt': '0 0.5 0.5 0.1 0.1\n'.repeat(100) });
    await expectCode(yoloDatasetReport(label, { maxLabelBytes: 1000 }), 'ARCHIVE_TOO_LARGE', 'train/labels/a.txt');
    const two = await buildZip({
      'train/labels/a.txt': '0 0.5 0.5 0.1 0.1\n'.repeat(40),
      'train/labels/b.txt': '0 0.5 0.5 0.1 0.1\n'.repeat(40),
    });
    await expectCode(yoloDatasetReport(two, { maxLabelTotalBytes: 1000 }), 'ARCHIVE_TOO_LARGE', 'train/labels/b.txt');
  });
});

describe('parseYoloLabels', () => {
  it('names each malformed line and why', () => {
    const text = [
      '0 0.5 0.5 0.2 0.2',
      '',
      'a 0.5 0.5 0.2 0.2',
      '1.5 0.5 0.5 0.2 0.2',
      '0 50 60 20 20',
      '0 0.5 0.5 0 0.2',
      '0 0.1 0.1 0.2 0.2 0.3',
    ].join('\r\n');
    const parsed = parseYoloLabels(text);
    expect(parsed.boxes).toEqual([{ line: 1, classIndex: 0, width: 0.2, height: 0.2 }]);
    expect(parsed.malformed.map((m) => [m.line, m.reason])).toEqual([
      [3, '"a" is not a number'],
      [4, 'the class must be a whole number from 0, got 1.5'],
      [5, expect.stringContaining('normalised to 0..1')],
      [6, 'width and height must be more than 0'],
      [7, expect.stringContaining('got 6')],
    ]);
  });
});
