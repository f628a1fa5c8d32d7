import { connectedComponents } from './connected-components.ts';

/** Default FPR limit of the per-region overlap curve, as MVTec AD and anomalib report it. */
export const AUPRO_FPR_LIMIT = 0.3;

/**
 * The inputs of AUPRO gathered image by image: every normal pixel's score, and every defect pixel's score with its
 * weight 1 / (area of its connected ground-truth region). Grown in chunks, since sets reach millions of pixels.
 */
export class RegionOverlapCurve {
  private negatives: Float32Array[] = [];
  private positives: Float32Array[] = [];
  private weights: Float32Array[] = [];
  /** Connected ground-truth regions seen. */
  regions = 0;

  /** One image: its anomaly map and its ground-truth mask (1 = defect), of the same size. */
  add(map: Float32Array, truth: Uint8Array, width: number, height: number): void {
    const { labels, components } = connectedComponents(truth, width, height);
    const area = new Map(components.map((c) => [c.label, c.area]));
    let count = 0;
    for (let p = 0; p < truth.length; p++) if (truth[p]) count++;
    const neg = new Float32Array(truth.length - count);
    const pos = new Float32Array(count);
    const w = new Float32Array(count);
    let n = 0;
    let k = 0;
    for (let p = 0; p < truth.length; p++) {
      if (truth[p]) {
        pos[k] = map[p];
        w[k++] = 1 / area.get(labels[p])!;
      } else neg[n++] = map[p];
    }
    this.negatives.push(neg);
    this.positives.push(pos);
    this.weights.push(w);
    this.regions += components.length;
  }

  /** AUPRO up to fprLimit, normalised to 0..1 (NaN without regions or normal pixels). */
  area(fprLimit = AUPRO_FPR_LIMIT): number {
    const join = (chunks: Float32Array[]) => {
      const out = new Float32Array(chunks.reduce((a, c) => a + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    };
    return aupro(join(this.positives), join(this.weights), this.regions, join(this.negatives), fprLimit);
  }
}

/**
 * Area under the per-region overlap curve up to a false-positive rate, divided by that rate (MVTec AD; anomalib's
 * AUPRO). At a threshold t, FPR is the share of normal pixels >= t and PRO the mean over ground-truth regions of the
 * share of each region's pixels >= t: a sum of weights 1 / (region area x regions) over defect pixels >= t. The
 * curve is swept over every distinct score (ties one step), integrated by trapezoids, the last one cut at the limit.
 *
 * @param weights per positive pixel, 1 / area of its region
 */
export function aupro(
  positives: Float32Array,
  weights: Float32Array,
  regions: number,
  negatives: Float32Array,
  fprLimit = AUPRO_FPR_LIMIT,
): number {
  if (regions === 0 || negatives.length === 0 || !(fprLimit > 0 && fprLimit <= 1)) return Number.NaN;
  const neg = Float32Array.from(negatives).sort().reverse();
  const order = Uint32Array.from(positives.keys()).sort((a, b) => positives[b] - positives[a]);
  let fpr = 0;
  let pro = 0;
  let area = 0;
  let i = 0; // next positive (in order)
  let j = 0; // next negative
  while (i < order.length || j < neg.length) {
    const t = Math.max(i < order.length ? positives[order[i]] : -Infinity, j < neg.length ? neg[j] : -Infinity);
    let proNext = pro;
    while (i < order.length && positives[order[i]] === t) proNext += weights[order[i++]] / regions;
    while (j < neg.length && neg[j] === t) j++;
    const fprNext = j / neg.length;
    if (fprNext >= fprLimit) {
      // The step crosses the limit: the overlap there by linear interpolation along the step.
      const cut = fprNext > fpr ? pro + ((proNext - pro) * (fprLimit - fpr)) / (fprNext - fpr) : proNext;
      area += ((fprLimit - fpr) * (pro + cut)) / 2;
      return area / fprLimit;
    }
    area += ((fprNext - fpr) * (pro + proNext)) / 2;
    fpr = fprNext;
    pro = proNext;
  }
  return area / fprLimit; // every normal pixel counted before the limit: cannot happen with fprLimit <= 1, kept for safety
}
