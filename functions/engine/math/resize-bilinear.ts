/**
 * Where the source sits in the destination: source x = (x + 0.5) * scaleX - 0.5 - offsetX. The default is a plain
 * resize; a centre crop maps the destination onto a larger virtual canvas of which the source is the middle.
 */
export interface SourceWindow {
  scaleX: number;
  scaleY: number;
  offsetX: number;
  offsetY: number;
}

/**
 * Bilinear resize of a single-channel float map with half-pixel centres (PyTorch's align_corners=False, OpenCV's
 * INTER_LINEAR without antialiasing). Source coordinates are clamped at the borders (edges extend outwards).
 */
export function resizeBilinear(
  src: Float32Array,
  srcW: number,
  srcH: number,
  dstW: number,
  dstH: number,
  out = new Float32Array(dstW * dstH),
  window?: SourceWindow,
): Float32Array {
  const sx = window?.scaleX ?? srcW / dstW;
  const sy = window?.scaleY ?? srcH / dstH;
  const ox = window?.offsetX ?? 0;
  const oy = window?.offsetY ?? 0;
  // Column taps are the same for every row: compute them once.
  const x0 = new Int32Array(dstW);
  const x1 = new Int32Array(dstW);
  const wx = new Float32Array(dstW);
  for (let x = 0; x < dstW; x++) {
    const fx = Math.max(0, (x + 0.5) * sx - 0.5 - ox);
    const i = Math.min(Math.floor(fx), srcW - 1);
    x0[x] = i;
    x1[x] = Math.min(i + 1, srcW - 1);
    wx[x] = fx - i;
  }
  for (let y = 0; y < dstH; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5 - oy);
    const j = Math.min(Math.floor(fy), srcH - 1);
    const wy = fy - j;
    const row0 = j * srcW;
    const row1 = Math.min(j + 1, srcH - 1) * srcW;
    const o = y * dstW;
    for (let x = 0; x < dstW; x++) {
      const top = src[row0 + x0[x]] + (src[row0 + x1[x]] - src[row0 + x0[x]]) * wx[x];
      const bottom = src[row1 + x0[x]] + (src[row1 + x1[x]] - src[row1 + x0[x]]) * wx[x];
      out[o + x] = top + (bottom - top) * wy;
    }
  }
  return out;
}
