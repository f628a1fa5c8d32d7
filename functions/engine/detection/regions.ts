import { onCalibratedScale } from '../calibration/score-scale.ts';
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
 * Connected regions of the normalised pixel map at or above the threshold, strongest first, with boxes scaled from
 * the map's size (mapWidth x mapHeight) to the image's (imageWidth x imageHeight).
 */
export function findRegions(
  normalisedMap: Float32Array,
  mapWidth: number,
  mapHeight: number,
  imageWidth: number,
  imageHeight: number,
  threshold: number,
  settings: DetectionSettings['regions'],
): RegionSummary {
  const mask = new Uint8Array(normalisedMap.length);
  let above = 0;
  for (let i = 0; i < normalisedMap.length; i++) {
    if (normalisedMap[i] >= threshold) {
      mask[i] = 1;
      above++;
    }
  }
  const damagePercentage = round((100 * above) / normalisedMap.length, 3);
  if (above === 0) return { regions: [], damagePercentage, mask };
  const { components } = connectedComponents(mask, mapWidth, mapHeight, normalisedMap);
  const minArea = settings.minAreaFraction * normalisedMap.length;
  const sx = imageWidth / mapWidth;
  const sy = imageHeight / mapHeight;
  const regions = components
    .filter((c) => c.area >= minArea)
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
