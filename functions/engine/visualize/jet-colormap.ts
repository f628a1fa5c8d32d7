/** The JET colour map (blue, cyan, yellow, red) as a 256-entry RGB table, the heatmap colours inspectors expect. */
export const JET: Uint8Array = (() => {
  const table = new Uint8Array(256 * 3);
  const channel = (v: number, centre: number) =>
    Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - centre))));
  for (let i = 0; i < 256; i++) {
    const v = i / 255;
    table[i * 3] = channel(v, 3);
    table[i * 3 + 1] = channel(v, 2);
    table[i * 3 + 2] = channel(v, 1);
  }
  return table;
})();

/** Colours a 0..1 map with JET into HWC RGB bytes. */
export function colourise(map: Float32Array, out = Buffer.alloc(map.length * 3)): Buffer {
  for (let i = 0, p = 0; i < map.length; i++, p += 3) {
    const v = map[i];
    const t = (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255)) * 3;
    out[p] = JET[t];
    out[p + 1] = JET[t + 1];
    out[p + 2] = JET[t + 2];
  }
  return out;
}
