import type { SeverityBand } from '../api/client.ts';

/** The band's place from calm to severe, for its colour: the first band is calm, the last severe. */
export function bandLevel(name: string, bands: SeverityBand[]): number {
  const i = bands.findIndex((b) => b.name === name);
  if (i < 0 || bands.length < 2) return 0;
  return Math.round((i / (bands.length - 1)) * 3);
}

/** What the default bands mean, for the places that show them (README, "Score bands"). */
export const BAND_MEANINGS: Record<string, string> = {
  Normal: 'like the normal images the model was calibrated on',
  Potential: 'higher than the normal images seen, still under the limit: not flagged',
  Overloway: 'over the limit: a defect likely (flagged)',
  Faulty: 'far over the limit: a defect (flagged)',
};

/** A severity band's name on its colour (the text carries the meaning, the colour only helps). */
export function BandBadge({ band, bands }: { band: string; bands: SeverityBand[] }) {
  return (
    <span class={`badge band-${bandLevel(band, bands)}`} title={BAND_MEANINGS[band]}>
      {band}
    </span>
  );
}

export const BAND_COLOURS = ['#2e7d4f', '#b8860b', '#d2691e', '#c62828'];
