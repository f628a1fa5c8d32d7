import { InvalidOptionError } from '../errors.ts';

/**
 * High-resolution inspection with a fixed-size backbone: the image, resized to `resolution` x `resolution`, is cut
 * into overlapping square tiles of the backbone's input size; each tile's patch features are written back at their
 * place in one feature grid of the whole image (resolution / cell patches a side), blended where tiles overlap.
 *
 * Blending weights fall linearly from a tile's centre to its border: features near a tile's border see the zero
 * padding of every convolution, so where a neighbouring tile has the same place nearer its centre, that tile's
 * features count most. A defect on a tile border is then described as one in a tile's middle is (the seam test).
 */
export interface TileLayout {
  /** Side of the resized image, pixels. */
  resolution: number;
  /** Side of a tile (the backbone's input), pixels. */
  tile: number;
  /** Pixels per feature cell (the backbone's finest stride). */
  cell: number;
  /** Top-left pixel offset of the tiles along one axis (the same on both). */
  offsets: number[];
  /** Feature cells per tile side, and per image side. */
  tileGrid: number;
  grid: number;
  /** Blending weight of each cell of a tile, [tileGrid * tileGrid], row-major. */
  weights: Float32Array;
}

/** Tiles overlap by at least half their side: every place lies in the inner half of some tile. */
export const TILE_OVERLAP = 0.5;

/** The largest inspected resolution: 9 x 9 tiles of 224, 168 x 168 feature cells per image. */
export const MAX_RESOLUTION = 2016;

export function tileLayout(resolution: number, tile: number, cell: number): TileLayout {
  if (!Number.isInteger(resolution) || resolution < tile || resolution > MAX_RESOLUTION || resolution % cell !== 0) {
    throw new InvalidOptionError(
      `resolution must be a multiple of ${cell} from the backbone's input size ${tile} to ${MAX_RESOLUTION}, got ${resolution}`,
      { resolution },
    );
  }
  const span = resolution - tile;
  const maxStep = tile * (1 - TILE_OVERLAP);
  const steps = Math.ceil(span / maxStep);
  // Evenly spread, each offset on the feature cell lattice so that tile cells fall exactly on image cells.
  const offsets =
    steps === 0 ? [0] : Array.from({ length: steps + 1 }, (_, i) => Math.round((i * span) / steps / cell) * cell);
  const tileGrid = tile / cell;
  const ramp = Array.from({ length: tileGrid }, (_, i) => Math.min(i + 1, tileGrid - i));
  const weights = new Float32Array(tileGrid * tileGrid);
  for (let y = 0; y < tileGrid; y++) for (let x = 0; x < tileGrid; x++) weights[y * tileGrid + x] = ramp[y] * ramp[x];
  return { resolution, tile, cell, offsets, tileGrid, grid: resolution / cell, weights };
}

export const tilesPerImage = (layout: TileLayout): number => layout.offsets.length ** 2;

/**
 * Copies tile `index` (row-major over the offsets) of image `slot` of an NCHW batch at the full resolution into slot
 * `into` of an NCHW tile batch.
 */
export function copyTile(
  layout: TileLayout,
  images: Float32Array,
  slot: number,
  index: number,
  tiles: Float32Array,
  into: number,
): void {
  const { resolution: r, tile: t, offsets } = layout;
  const oy = offsets[Math.floor(index / offsets.length)];
  const ox = offsets[index % offsets.length];
  for (let c = 0; c < 3; c++) {
    const src = (slot * 3 + c) * r * r;
    const dst = (into * 3 + c) * t * t;
    for (let y = 0; y < t; y++) {
      const from = src + (oy + y) * r + ox;
      tiles.set(images.subarray(from, from + t), dst + y * t);
    }
  }
}

/**
 * Adds one tile's features ([tileGrid * tileGrid, channels], patch-major) into an image's weighted sums
 * ([grid * grid, channels]) and weight totals ([grid * grid]).
 */
export function accumulateTile(
  layout: TileLayout,
  index: number,
  tileFeatures: Float32Array,
  channels: number,
  sums: Float32Array,
  totals: Float32Array,
): void {
  const { offsets, tileGrid: g, grid: G, cell, weights } = layout;
  const cy = offsets[Math.floor(index / offsets.length)] / cell;
  const cx = offsets[index % offsets.length] / cell;
  for (let y = 0; y < g; y++) {
    for (let x = 0; x < g; x++) {
      const w = weights[y * g + x];
      const to = (cy + y) * G + cx + x;
      totals[to] += w;
      const src = (y * g + x) * channels;
      const dst = to * channels;
      for (let c = 0; c < channels; c++) sums[dst + c] += w * tileFeatures[src + c];
    }
  }
}

/** Divides the weighted sums by their weights, in place. */
export function normaliseBlend(sums: Float32Array, totals: Float32Array, channels: number): void {
  for (let p = 0; p < totals.length; p++) {
    const inv = 1 / totals[p];
    for (let c = 0; c < channels; c++) sums[p * channels + c] *= inv;
  }
}

/**
 * Area-average resize of the image planes of slot `slot` (NCHW, `from` x `from`) to `to` x `to` into slot `into` of
 * `out`: the coarse whole-image view of the multi-scale features, seen by the backbone at its own input size.
 */
export function downscalePlanes(
  images: Float32Array,
  slot: number,
  from: number,
  out: Float32Array,
  into: number,
  to: number,
): void {
  const taps = areaTaps(from, to);
  const row = new Float32Array(from * to);
  for (let c = 0; c < 3; c++) {
    const src = (slot * 3 + c) * from * from;
    const dst = (into * 3 + c) * to * to;
    // Horizontal pass: [from rows, to columns], then vertical: [to rows, to columns].
    for (let y = 0; y < from; y++) {
      for (let x = 0; x < to; x++) {
        let s = 0;
        for (const [i, w] of taps[x]) s += w * images[src + y * from + i];
        row[y * to + x] = s;
      }
    }
    for (let y = 0; y < to; y++) {
      for (let x = 0; x < to; x++) {
        let s = 0;
        for (const [i, w] of taps[y]) s += w * row[i * to + x];
        out[dst + y * to + x] = s;
      }
    }
  }
}

/** For each output index, the input indices it covers and their share (box filter of exact pixel overlaps). */
function areaTaps(from: number, to: number): [number, number][][] {
  const scale = from / to;
  return Array.from({ length: to }, (_, o) => {
    const a = o * scale;
    const b = a + scale;
    const taps: [number, number][] = [];
    for (let i = Math.floor(a); i < Math.min(from, Math.ceil(b)); i++) {
      const w = Math.min(b, i + 1) - Math.max(a, i);
      if (w > 1e-9) taps.push([i, w / scale]);
    }
    return taps;
  });
}

/**
 * Bilinear (half-pixel) upsampling of a [g * g, channels] feature grid to [G * G, channels], as the feature model
 * resizes its coarser layers: the coarse view's features placed on the fine grid.
 */
export function upsampleFeatures(
  features: Float32Array,
  g: number,
  G: number,
  channels: number,
  out: Float32Array,
  outChannels: number,
  channelOffset: number,
): void {
  const scale = g / G;
  const coord = (o: number): [number, number, number] => {
    const s = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), g - 1);
    const i0 = Math.floor(s);
    const i1 = Math.min(i0 + 1, g - 1);
    return [i0, i1, s - i0];
  };
  const coords = Array.from({ length: G }, (_, o) => coord(o));
  for (let y = 0; y < G; y++) {
    const [y0, y1, fy] = coords[y];
    for (let x = 0; x < G; x++) {
      const [x0, x1, fx] = coords[x];
      const dst = (y * G + x) * outChannels + channelOffset;
      const a = (y0 * g + x0) * channels;
      const b = (y0 * g + x1) * channels;
      const c = (y1 * g + x0) * channels;
      const d = (y1 * g + x1) * channels;
      for (let k = 0; k < channels; k++) {
        const top = features[a + k] * (1 - fx) + features[b + k] * fx;
        const bottom = features[c + k] * (1 - fx) + features[d + k] * fx;
        out[dst + k] = top * (1 - fy) + bottom * fy;
      }
    }
  }
}
