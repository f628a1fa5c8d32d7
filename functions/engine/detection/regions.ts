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
 * Where regions may grow, from the raw map (before normalisation, which clamps low scores to 0): the pixels at or
 * above the model's grow level (thresholds.pixel.grow), moved with the decision threshold by the raw amount the
 * threshold moves. Undefined for models calibrated before the grow level existed (no growing).
 */
export function growMask(
  rawMap: Float32Array,
  pixel: ScoreScale & { grow?: number },
  threshold: number,
): Uint8Array | undefined {
  if (pixel.grow === undefined) return undefined;
  const level = pixel.grow + (threshold - CALIBRATED_THRESHOLD) * (pixel.max - pixel.min);
  const mask = new Uint8Array(rawMap.length);
  for (let i = 0; i < rawMap.length; i++) if (rawMap[i] >= level) mask[i] = 1;
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
