import { DEFAULT_IMAGE_LIMITS, rgbPipeline, toRaw, type ImageLimits } from '../image/decode-image.ts';
import sharp from 'sharp';
import type { DetectedObject } from './object-detector.ts';

/** Longest side of the rendered PNG by default: large photos are shown smaller, never larger. */
export const DEFAULT_RENDER_MAX_SIDE = 1280;

/** A colour per class, cycling; distinct enough to tell neighbouring boxes apart. */
const PALETTE = [
  '#ff3838',
  '#2c99a8',
  '#ff9d97',
  '#48f90a',
  '#ff701f',
  '#00c2ff',
  '#ffb21d',
  '#cfd231',
  '#92cc17',
  '#3ddb86',
  '#1a9334',
  '#344593',
  '#6473ff',
  '#0018ec',
  '#8438ff',
  '#520085',
  '#cb38ff',
  '#ff95c8',
  '#ff37c7',
];

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The image with each object's box and "label confidence%" drawn, as PNG, its longer side at most `maxSide` (boxes
 * scaled with it): the "bounded" picture of the anomaly side, for detectors.
 */
export async function renderDetections(
  bytes: Uint8Array,
  objects: readonly DetectedObject[],
  options: { maxSide?: number; limits?: ImageLimits } = {},
): Promise<Buffer> {
  const maxSide = options.maxSide ?? DEFAULT_RENDER_MAX_SIDE;
  const limits = options.limits ?? DEFAULT_IMAGE_LIMITS;
  const full = await sharp(bytes, { limitInputPixels: limits.maxPixels }).rotate().metadata();
  const rotated = (full.orientation ?? 1) >= 5;
  const sourceWidth = (rotated ? full.height : full.width) ?? 1;
  const { data, width, height } = await toRaw(
    rgbPipeline(bytes, limits).resize(maxSide, maxSide, { fit: 'inside', withoutEnlargement: true }),
  );
  const s = width / sourceWidth;
  const line = Math.max(2, Math.round(Math.min(width, height) / 250));
  const font = Math.max(10, Math.round(Math.min(width, height) / 40));
  const shapes = objects.map((o) => {
    const colour = PALETTE[o.class_index % PALETTE.length];
    const [x, y, w, h] = [o.x * s, o.y * s, o.width * s, o.height * s];
    const label = escapeXml(`${o.label} ${Math.round(o.confidence * 100)}%`);
    const labelY = y >= font + 4 ? y - font - 4 : y + h;
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${line}"/>` +
      `<rect x="${x}" y="${labelY}" width="${label.length * font * 0.62 + 6}" height="${font + 4}" fill="${colour}"/>` +
      `<text x="${x + 3}" y="${labelY + font}" font-family="sans-serif" font-size="${font}" fill="#000">${label}</text>`
    );
  });
  const svg = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${shapes.join('')}</svg>`,
  );
  return sharp(data, { raw: { width, height, channels: 3 } })
    .composite([{ input: svg, top: 0, left: 0 }])
    .removeAlpha()
    .png({ compressionLevel: 4 })
    .toBuffer();
}
