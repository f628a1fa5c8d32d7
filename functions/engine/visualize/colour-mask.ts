import sharp from 'sharp';

/** `#RRGGBB` as bytes. */
const rgbOf = (hex: string): [number, number, number] => {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
};

/**
 * A binary mask PNG (255 = anomalous) recoloured as a segmentation mask: each anomalous pixel in the anomaly's colour,
 * the rest in the background's (Lookout for Vision's AnomalyMask). Answers the PNG and the anomalous share (0..1).
 */
export async function colourMask(
  maskPng: Uint8Array,
  colours: { anomaly: string; background: string },
): Promise<{ png: Buffer; anomalousShare: number }> {
  const { data, info } = await sharp(maskPng).greyscale().raw().toBuffer({ resolveWithObject: true });
  const [ar, ag, ab] = rgbOf(colours.anomaly);
  const [br, bg, bb] = rgbOf(colours.background);
  const out = Buffer.alloc(info.width * info.height * 3);
  let anomalous = 0;
  for (let i = 0, p = 0; i < info.width * info.height; i++, p += 3) {
    const on = data[i * info.channels]! > 127;
    if (on) anomalous++;
    out[p] = on ? ar : br;
    out[p + 1] = on ? ag : bg;
    out[p + 2] = on ? ab : bb;
  }
  const png = await sharp(out, { raw: { width: info.width, height: info.height, channels: 3 } })
    .png()
    .toBuffer();
  return { png, anomalousShare: anomalous / (info.width * info.height) };
}
