import sharp from 'sharp';
import type { BoundingBox } from '../detection/regions.ts';
import { colourise } from './jet-colormap.ts';

export const VISUALIZATION_KINDS = ['heatmap', 'overlay', 'mask', 'filtered', 'bounded'] as const;
export type VisualizationKind = (typeof VISUALIZATION_KINDS)[number];
export type Visualizations = Record<VisualizationKind, Buffer>;

export interface VisualizationInput {
  /** The image at map size, HWC RGB. */
  rgb: Buffer;
  width: number;
  height: number;
  /** Normalised anomaly map (0..1), width x height. */
  map: Float32Array;
  /** 1 where anomalous, width x height. */
  mask: Uint8Array;
  /** Boxes in pixels of the original image, and that image's width, to scale them onto the map. */
  boxes: BoundingBox[];
  imageWidth: number;
  imageHeight: number;
}

/**
 * The PNG options of every visualization, the API's and the drop folder's alike (both render here): zlib level 4
 * encodes faster than the default 6, for slightly larger files.
 */
export const VISUALIZATION_PNG = { compressionLevel: 4 } as const;

const png = (data: Buffer, width: number, height: number, channels: 1 | 3) =>
  sharp(data, { raw: { width, height, channels } }).png(VISUALIZATION_PNG);

const escapeXml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG layer with one labelled rectangle per box, drawn at the map's size. */
function boxesSvg(input: VisualizationInput): Buffer {
  const sx = input.width / input.imageWidth;
  const sy = input.height / input.imageHeight;
  const line = Math.max(2, Math.round(Math.min(input.width, input.height) / 200));
  const font = Math.max(10, Math.round(Math.min(input.width, input.height) / 28));
  const shapes = input.boxes.map((b) => {
    const colour = b.type === 'Critical' ? '#ff2020' : '#ffb000';
    const x = b.x * sx;
    const y = b.y * sy;
    const label = escapeXml(`${b.type} ${Math.round(b.confidence * 100)}%`);
    const labelY = y >= font + 4 ? y - font - 4 : y + b.height * sy;
    return (
      `<rect x="${x}" y="${y}" width="${b.width * sx}" height="${b.height * sy}" fill="none" stroke="${colour}" stroke-width="${line}"/>` +
      `<rect x="${x}" y="${labelY}" width="${label.length * font * 0.62 + 6}" height="${font + 4}" fill="${colour}"/>` +
      `<text x="${x + 3}" y="${labelY + font}" font-family="sans-serif" font-size="${font}" fill="#000">${label}</text>`
    );
  });
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${input.width}" height="${input.height}">${shapes.join('')}</svg>`,
  );
}

/** Renders the five visualizations as PNG: JET heatmap, 50/50 overlay, binary mask, anomalous regions only, boxes. */
export async function renderVisualizations(input: VisualizationInput): Promise<Visualizations> {
  const { rgb, width, height, map, mask } = input;
  const heat = colourise(map);
  const overlay = Buffer.alloc(rgb.length);
  const filtered = Buffer.alloc(rgb.length);
  const maskImage = Buffer.alloc(mask.length);
  for (let i = 0, p = 0; i < mask.length; i++, p += 3) {
    overlay[p] = (rgb[p] + heat[p] + 1) >> 1;
    overlay[p + 1] = (rgb[p + 1] + heat[p + 1] + 1) >> 1;
    overlay[p + 2] = (rgb[p + 2] + heat[p + 2] + 1) >> 1;
    if (mask[i]) {
      maskImage[i] = 255;
      filtered[p] = rgb[p];
      filtered[p + 1] = rgb[p + 1];
      filtered[p + 2] = rgb[p + 2];
    }
  }
  const [heatmap, overlayPng, maskPng, filteredPng, bounded] = await Promise.all([
    png(heat, width, height, 3).toBuffer(),
    png(overlay, width, height, 3).toBuffer(),
    png(maskImage, width, height, 1).toBuffer(),
    png(filtered, width, height, 3).toBuffer(),
    png(rgb, width, height, 3)
      .composite([{ input: boxesSvg(input), top: 0, left: 0 }])
      .toBuffer(),
  ]);
  return { heatmap, overlay: overlayPng, mask: maskPng, filtered: filteredPng, bounded };
}
