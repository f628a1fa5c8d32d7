import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  MAX_MANIFEST_LINES,
  parseGroundTruthManifest,
} from '../../../functions/engine/dataset/ground-truth-manifest.ts';
import { binaryMaskFromColourMap } from '../../../functions/engine/image/colour-map-mask.ts';

const meta = (cls: string) => ({
  'class-name': cls,
  confidence: 1,
  type: 'groundtruth/image-classification',
  'job-name': 'labeling-job/anomaly-label',
  'human-annotated': 'yes',
  'creation-date': '2021-01-01T00:00:00.000',
});
const colourMap = {
  '0': { 'class-name': 'BACKGROUND', 'hex-color': '#ffffff', confidence: 0 },
  '1': { 'class-name': 'crack', 'hex-color': '#2CA02C', confidence: 0 },
};
const normal = (ref: string) => ({ 'source-ref': ref, 'anomaly-label': 0, 'anomaly-label-metadata': meta('normal') });
const anomaly = (ref: string, mask?: string, map: object = colourMap) => ({
  'source-ref': ref,
  'anomaly-label': 1,
  'anomaly-label-metadata': meta('anomaly'),
  ...(mask
    ? {
        'anomaly-mask-ref': mask,
        'anomaly-mask-ref-metadata': { 'internal-color-map': map, type: 'groundtruth/semantic-segmentation' },
      }
    : {}),
});
const jsonl = (...lines: (object | string)[]) =>
  lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');

describe('a Lookout for Vision (Ground Truth) manifest', () => {
  it('gives each image with its label, and the anomaly colours of its mask', () => {
    const parsed = parseGroundTruthManifest(
      jsonl(normal('s3://b/n.jpg'), '', anomaly('s3://b/a.jpg', 's3://b/a.png'), anomaly('s3://b/c.jpg')) + '\n',
    );
    expect(parsed).toEqual({
      ok: true,
      entries: [
        { line: 1, sourceRef: 's3://b/n.jpg', anomalous: false },
        {
          line: 3,
          sourceRef: 's3://b/a.jpg',
          anomalous: true,
          mask: { ref: 's3://b/a.png', anomalyColours: { crack: '#2ca02c' } },
        },
        { line: 4, sourceRef: 's3://b/c.jpg', anomalous: true },
      ],
    });
  });

  it('names every bad line with its reason and takes none', () => {
    const parsed = parseGroundTruthManifest(
      jsonl(
        normal('s3://b/ok.jpg'),
        '{not json',
        { ...normal('s3://b/x.jpg'), 'anomaly-label': 2 },
        { ...normal('s3://b/y.jpg'), 'anomaly-label-metadata': meta('anomaly') },
        { ...anomaly('s3://b/z.jpg', 's3://b/z.png'), 'anomaly-label': 0, 'anomaly-label-metadata': meta('normal') },
        { 'source-ref': 's3://b/w.jpg', 'anomaly-label': 1 },
        anomaly('s3://b/v.jpg', 's3://b/v.png', { '0': colourMap['0'] }),
        { ...anomaly('s3://b/u.jpg'), 'anomaly-mask-ref': 's3://b/u.png' },
        normal('s3://b/ok.jpg'),
        [1, 2],
      ),
    );
    expect(parsed.ok).toBe(false);
    const errors = parsed.ok ? [] : parsed.errors;
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const reasons = errors.map((e) => e.reason).join('\n');
    expect(reasons).toMatch(/not valid JSON/);
    expect(reasons).toMatch(/anomaly-label must be 0 \(normal\) or 1 \(anomaly\)/);
    expect(reasons).toMatch(/contradicts its class-name "anomaly"/);
    expect(reasons).toMatch(/a normal image with an anomaly mask/);
    expect(reasons).toMatch(/anomaly-label-metadata \(with class-name\) is missing/);
    expect(reasons).toMatch(/names no anomaly class/);
    expect(reasons).toMatch(/without anomaly-mask-ref-metadata/);
    expect(reasons).toMatch(/already on line 1/);
  });

  it('refuses a manifest past the line limit', () => {
    const lines = Array.from({ length: MAX_MANIFEST_LINES + 1 }, (_, i) => normal(`s3://b/${i}.jpg`));
    const parsed = parseGroundTruthManifest(jsonl(...lines));
    expect(parsed).toEqual({
      ok: false,
      errors: [{ line: MAX_MANIFEST_LINES + 1, reason: `more than ${MAX_MANIFEST_LINES} images in one manifest` }],
    });
  });

  it('refuses an empty manifest', () => {
    expect(parseGroundTruthManifest('\n\n')).toEqual({
      ok: false,
      errors: [{ line: 1, reason: 'the manifest has no lines' }],
    });
  });
});

describe('a colour-map mask', () => {
  const png = (width: number, height: number, paint: (x: number, y: number) => [number, number, number]) => {
    const data = Buffer.alloc(width * height * 3);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.set(paint(x, y), (y * width + x) * 3);
    return sharp(data, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
  };

  it('becomes a binary mask of the anomaly colours, counted by class', async () => {
    const mask = await png(20, 10, (x, y) => (x < 5 ? [0x2c, 0xa0, 0x2c] : y < 2 ? [255, 0, 0] : [255, 255, 255]));
    const out = await binaryMaskFromColourMap(mask, { crack: '#2ca02c', dent: '#ff0000' }, { width: 20, height: 10 });
    expect(out.pixelsByClass).toEqual({ crack: 50, dent: 30 });
    const meta = await sharp(out.png).metadata();
    expect([meta.format, meta.width, meta.height, meta.channels]).toEqual(['png', 20, 10, 1]);
    const data = await sharp(out.png).extractChannel(0).raw().toBuffer();
    expect(data.filter((v) => v === 255).length).toBe(80);
    expect(data.filter((v) => v === 0).length).toBe(120);
  });

  it('refuses a mask of another size, one without an anomaly colour, and one that is not an image', async () => {
    const white = await png(20, 10, () => [255, 255, 255]);
    await expect(binaryMaskFromColourMap(white, { crack: '#2ca02c' }, { width: 20, height: 10 })).rejects.toThrow(
      /no pixel in any anomaly colour/,
    );
    await expect(binaryMaskFromColourMap(white, { crack: '#2ca02c' }, { width: 10, height: 10 })).rejects.toThrow(
      /the mask is 20x10, its image 10x10/,
    );
    await expect(
      binaryMaskFromColourMap(Buffer.from('nope'), { crack: '#2ca02c' }, { width: 10, height: 10 }),
    ).rejects.toThrow(/cannot be decoded/);
  });
});
