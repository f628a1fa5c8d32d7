import { onCalibratedScale, type ScoreScale } from '../calibration/score-scale.ts';
import { CALIBRATED_THRESHOLD } from './detection-settings.ts';
import { connectedComponents } from '../math/connected-components.ts';
import type { DetectionSettings } from './detection-settings.ts';

export type RegionType = 'Critical' | 'Warning';

/** A box around one connected anomalous region, in pixels of the original image. */
export interface BoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The region's peak normalised pixel score (0..1). */
  confidence: number;
  type: RegionType;
}

/** A region with where its peak lies on the map, for the evidence. */
export interface Region {
  box: BoundingBox;
  /** Peak position on the map (map pixels). */
  peakX: number;
  peakY: number;
  area: number;
}

export interface RegionSummary {
  regions: Region[];
  /** Share of the image at or above the pixel threshold, in percent. */
  damagePercentage: number;
  /** 1 where the pixel is at or above the threshold; the map's size. */
  mask: Uint8Array;
}

const round = (v: number, digits = 4): number => Number(v.toFixed(digits));

/**
 * Where regions may grow, from the raw map (before normalisation, which clamps low scores to 0 and high ones to 1).
 * Each region seeded at the decision threshold grows over its connected pixels down to its own level: the floor
 * (the model's grow level, thresholds.pixel.grow, from normal pixels) plus `growFraction` of its peak's height above
 * the floor, never below the floor and never above the threshold: a region whose peak is barely over the threshold
 * grows towards the floor, one far above it keeps the threshold's outline, with no per-set tuning (a fixed share of
 * each region's own peak, as a half-maximum width is); fraction 0 is plain hysteresis down to the floor. The floor and the seed level move with the decision threshold by the raw
 * amount the threshold moves. Undefined for models calibrated before the grow level existed (no growing).
 */
export function growMask(
  rawMap: Float32Array,
  mapWidth: number,
  mapHeight: number,
  pixel: ScoreScale & { grow?: number; growFraction?: number },
  threshold: number,
): Uint8Array | undefined {
  if (pixel.grow === undefined) return undefined;
  const shift = (threshold - CALIBRATED_THRESHOLD) * (pixel.max - pixel.min);
  const floor = pixel.grow + shift;
  const fraction = pixel.growFraction ?? 0;
  const mask = new Uint8Array(rawMap.length);
  if (fraction === 0) {
    for (let i = 0; i < rawMap.length; i++) if (rawMap[i] >= floor) mask[i] = 1;
    return mask;
  }
  const seedLevel = pixel.threshold + shift;
  const seeds = new Uint8Array(rawMap.length);
  for (let i = 0; i < rawMap.length; i++) if (rawMap[i] >= seedLevel) seeds[i] = 1;
  const { labels, components } = connectedComponents(seeds, mapWidth, mapHeight, rawMap);
  // Strongest first: where two regions' growth meets, the pixels go to the stronger (they merge in findRegions).
  const levelOf = new Float64Array(components.length + 1);
  for (const c of components) levelOf[c.label] = Math.min(seedLevel, floor + fraction * Math.max(0, c.peak - floor));
  const order = [...components].sort((a, b) => b.peak - a.peak);
  const queue = new Int32Array(rawMap.length);
  const bySeed: number[][] = components.map(() => []);
  const index = new Map(components.map((c, i) => [c.label, i]));
  for (let i = 0; i < labels.length; i++) if (labels[i]) bySeed[index.get(labels[i])!].push(i);
  for (const c of order) {
    const level = levelOf[c.label];
    let head = 0;
    let tail = 0;
    for (const i of bySeed[index.get(c.label)!]) {
      if (mask[i]) continue;
      mask[i] = 1;
      queue[tail++] = i;
    }
    while (head < tail) {
      const i = queue[head++];
      const x = i % mapWidth;
      const y = (i - x) / mapWidth;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= mapHeight) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= mapWidth) continue;
          const j = yy * mapWidth + xx;
          if (!mask[j] && rawMap[j] >= level) {
            mask[j] = 1;
            queue[tail++] = j;
          }
        }
      }
    }
  }
  return mask;
}

/**
 * Connected regions of the normalised pixel map, strongest first, with boxes scaled from the map's size (mapWidth x
 * mapHeight) to the image's (imageWidth x imageHeight). A region starts where the map reaches the threshold, and with
 * `grow` (the pixels at or above a lower level, growMask) grows over the connected ones of those (hysteresis): the threshold is set
 * by the normal maps' maxima, so it keeps normal images free of regions, but alone it marks only a defect's peak.
 * A grown region is kept when its part at or above the threshold has the minimum area, as the region alone was.
 */
export function findRegions(
  normalisedMap: Float32Array,
  mapWidth: number,
  mapHeight: number,
  imageWidth: number,
  imageHeight: number,
  threshold: number,
  settings: DetectionSettings['regions'],
  grow?: Uint8Array,
): RegionSummary {
  const grown = new Uint8Array(normalisedMap.length);
  let seeds = 0;
  for (let i = 0; i < normalisedMap.length; i++) {
    if (normalisedMap[i] >= threshold) {
      grown[i] = 1;
      seeds++;
    } else if (grow?.[i]) grown[i] = 1;
  }
  if (seeds === 0) return { regions: [], damagePercentage: 0, mask: new Uint8Array(normalisedMap.length) };
  const { labels, components } = connectedComponents(grown, mapWidth, mapHeight, normalisedMap);
  // Area at or above the threshold in each low-level component: those without any are no region.
  const index = new Map(components.map((c, i) => [c.label, i]));
  const seedArea = new Float64Array(components.length);
  for (let i = 0; i < normalisedMap.length; i++) if (normalisedMap[i] >= threshold) seedArea[index.get(labels[i])!]++;
  const mask = new Uint8Array(normalisedMap.length);
  let area = 0;
  for (let i = 0; i < normalisedMap.length; i++) {
    if (grown[i] && seedArea[index.get(labels[i])!] > 0) {
      mask[i] = 1;
      area++;
    }
  }
  const damagePercentage = round((100 * area) / normalisedMap.length, 3);
  const minArea = settings.minAreaFraction * normalisedMap.length;
  const sx = imageWidth / mapWidth;
  const sy = imageHeight / mapHeight;
  const regions = components
    .filter((c, i) => seedArea[i] > 0 && seedArea[i] >= minArea)
    .sort((a, b) => b.peak - a.peak || b.area - a.area)
    .slice(0, settings.maxRegions)
    .map((c): Region => {
      const x = Math.floor(c.x * sx);
      const y = Math.floor(c.y * sy);
      const box: BoundingBox = {
        x,
        y,
        width: Math.min(imageWidth, Math.ceil((c.x + c.width) * sx)) - x,
        height: Math.min(imageHeight, Math.ceil((c.y + c.height) * sy)) - y,
        confidence: round(c.peak),
        // criticalAt is on the calibrated scale and moves with the threshold, as the severity bands do.
        type: onCalibratedScale(c.peak, threshold) >= settings.criticalAt ? 'Critical' : 'Warning',
      };
      return { box, peakX: c.peakX, peakY: c.peakY, area: c.area };
    });
  return { regions, damagePercentage, mask };
}
