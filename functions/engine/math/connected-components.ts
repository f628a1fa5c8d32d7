export interface Component {
  /** Label in the label image (1-based). */
  label: number;
  area: number;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Largest value of the scored map inside the component, and where. */
  peak: number;
  peakX: number;
  peakY: number;
}

/**
 * 8-connected components of a binary mask (two passes with union-find), with bounding box, area and the peak of a
 * score map inside each. Returns the label image too (0 = background).
 */
export function connectedComponents(
  mask: Uint8Array,
  width: number,
  height: number,
  scores?: Float32Array,
): { labels: Int32Array; components: Component[] } {
  const labels = new Int32Array(width * height);
  const parent: number[] = [0];
  const find = (a: number): number => {
    while (parent[a] !== a) {
      parent[a] = parent[parent[a]];
      a = parent[a];
    }
    return a;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    if (ra === rb) return ra;
    const [lo, hi] = ra < rb ? [ra, rb] : [rb, ra];
    parent[hi] = lo;
    return lo;
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!mask[i]) continue;
      let label = 0;
      // Neighbours already visited: W, NW, N, NE.
      const neighbours = [
        x > 0 ? i - 1 : -1,
        x > 0 && y > 0 ? i - width - 1 : -1,
        y > 0 ? i - width : -1,
        x + 1 < width && y > 0 ? i - width + 1 : -1,
      ];
      for (const n of neighbours) {
        if (n < 0 || labels[n] === 0) continue;
        label = label === 0 ? find(labels[n]) : union(label, labels[n]);
      }
      if (label === 0) {
        label = parent.length;
        parent.push(label);
      }
      labels[i] = label;
    }
  }
  const byRoot = new Map<number, Component>();
  let next = 1;
  const final = new Int32Array(parent.length);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 0) continue;
    const root = find(labels[i]);
    if (final[root] === 0) final[root] = next++;
    const label = final[root];
    labels[i] = label;
    const x = i % width;
    const y = (i - x) / width;
    const score = scores ? scores[i] : 1;
    let c = byRoot.get(label);
    if (!c) {
      c = { label, area: 0, x, y, width: 1, height: 1, peak: score, peakX: x, peakY: y };
      byRoot.set(label, c);
    }
    c.area++;
    const right = Math.max(c.x + c.width, x + 1);
    const bottom = Math.max(c.y + c.height, y + 1);
    c.x = Math.min(c.x, x);
    c.y = Math.min(c.y, y);
    c.width = right - c.x;
    c.height = bottom - c.y;
    if (score > c.peak) {
      c.peak = score;
      c.peakX = x;
      c.peakY = y;
    }
  }
  return { labels, components: [...byRoot.values()] };
}
