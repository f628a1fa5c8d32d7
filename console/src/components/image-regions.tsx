import { useState } from 'preact/hooks';

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
  label?: string;
  tone?: 'critical' | 'warning' | 'info';
}

interface ImageRegionsProps {
  src: string;
  alt: string;
  /** The image's size in the pixels regions are given in; read from the image itself when not known. */
  size?: { width: number; height: number };
  regions?: Region[];
  /** A second image drawn over the first (the heatmap), with its opacity 0..1. */
  overlay?: { src: string; alt: string; opacity: number };
}

/** An image with an optional overlay image and outlined regions, all scaled together to the width available. */
export function ImageRegions({ src, alt, size, regions = [], overlay }: ImageRegionsProps) {
  const [natural, setNatural] = useState<{ width: number; height: number }>();
  const [failed, setFailed] = useState(false);
  const box = size ?? natural;
  if (failed)
    return (
      <div class="image-missing" role="img" aria-label={`${alt} (could not be loaded)`}>
        Image not available
      </div>
    );
  return (
    <div class="image-regions">
      <img
        src={src}
        alt={alt}
        onLoad={(e) => setNatural({ width: e.currentTarget.naturalWidth, height: e.currentTarget.naturalHeight })}
        onError={() => setFailed(true)}
      />
      {overlay ? (
        <img class="overlay" src={overlay.src} alt={overlay.alt} style={{ opacity: overlay.opacity }} />
      ) : null}
      {box && regions.length ? (
        <svg class="regions" viewBox={`0 0 ${box.width} ${box.height}`} preserveAspectRatio="none" aria-hidden="true">
          {regions.map((r, i) => (
            <rect
              key={i}
              class={`region ${r.tone ?? 'info'}`}
              x={r.x}
              y={r.y}
              width={r.width}
              height={r.height}
              vector-effect="non-scaling-stroke"
            />
          ))}
        </svg>
      ) : null}
    </div>
  );
}

/** A close-up of one patch of an image: the patch outlined, with some of its surroundings. */
export function PatchCloseUp({
  src,
  alt,
  patch,
  size,
}: {
  src: string;
  alt: string;
  patch: Region;
  size?: { width: number; height: number };
}) {
  const margin = Math.max(patch.width, patch.height);
  const view = [patch.x - margin, patch.y - margin, patch.width + 2 * margin, patch.height + 2 * margin].join(' ');
  return (
    <svg class="patch" viewBox={view} role="img" aria-label={alt}>
      <image
        href={src}
        x="0"
        y="0"
        {...(size ? { width: size.width, height: size.height, preserveAspectRatio: 'none' } : {})}
      />
      <rect
        class="region info"
        x={patch.x}
        y={patch.y}
        width={patch.width}
        height={patch.height}
        vector-effect="non-scaling-stroke"
      />
    </svg>
  );
}
