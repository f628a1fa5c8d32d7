import type { SeverityBand } from '../api/client.ts';

/** The band's place from calm to severe, for its colour: the first band is calm, the last severe. */
export function bandLevel(name: string, bands: SeverityBand[]): number {
  const i = bands.findIndex((b) => b.name === name);
  if (i < 0 || bands.length < 2) return 0;
  return Math.round((i / (bands.length - 1)) * 3);
}

/** A severity band's name on its colour (the text carries the meaning, the colour only helps). */
export function BandBadge({ band, bands }: { band: string; bands: SeverityBand[] }) {
  return <span class={`badge band-${bandLevel(band, bands)}`}>{band}</span>;
}

export const BAND_COLOURS = ['#2e7d4f', '#b8860b', '#d2691e', '#c62828'];
