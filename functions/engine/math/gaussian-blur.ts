/** The 1-D Gaussian kernel anomalib uses for anomaly maps: size 2 * round(4 sigma) + 1, normalised to sum 1. */
export function gaussianKernel(sigma: number): Float32Array {
  const radius = Math.floor(4 * sigma + 0.5);
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const v = Math.exp(-(i * i) / (2 * sigma * sigma));
    kernel[i + radius] = v;
    sum += v;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

/** Index reflected at the borders without repeating the edge (PyTorch's 'reflect' padding): -1 -> 1, n -> n - 2. */
function reflect(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = Math.abs(i) % period;
  if (m >= n) m = period - m;
  return m;
}

/** Separable Gaussian blur of a single-channel map, reflect padding; writes into `out` (may not alias src). */
export function gaussianBlur(
  src: Float32Array,
  width: number,
  height: number,
  sigma: number,
  out = new Float32Array(width * height),
): Float32Array {
  if (sigma <= 0) {
    out.set(src);
    return out;
  }
  const kernel = gaussianKernel(sigma);
  const radius = (kernel.length - 1) / 2;
  const tmp = new Float32Array(width * height);
  // Precomputed reflected indices make the inner loops branch-free.
  const xs = new Int32Array(width + 2 * radius);
  for (let i = 0; i < xs.length; i++) xs[i] = reflect(i - radius, width);
  const ys = new Int32Array(height + 2 * radius);
  for (let i = 0; i < ys.length; i++) ys[i] = reflect(i - radius, height) * width;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += src[row + xs[x + k]] * kernel[k];
      tmp[row + x] = s;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let k = 0; k < kernel.length; k++) s += tmp[ys[y + k] + x] * kernel[k];
      out[y * width + x] = s;
    }
  }
  return out;
}
