import { useState } from 'preact/hooks';
import type { Detection, SeverityBand } from '../api/client.ts';
import { displayName, formatDuration, formatPercent, formatScore } from '../format.ts';
import { BandBadge } from './band-badge.tsx';
import { QualityBadge } from './quality-badge.tsx';
import { Facts } from './facts.tsx';
import { ImageRegions, PatchCloseUp, type Region } from './image-regions.tsx';

export type DetectionFields = Omit<Detection, 'result_id' | 'visualizations'>;

interface DetectionViewProps {
  name: string;
  detection: DetectionFields;
  visualizations: Detection['visualizations'];
  bands: SeverityBand[];
  /** The image itself (a local file, or the stored drop-folder image); without it the image with its boxes drawn in is shown. */
  imageUrl?: string;
}

/** One detection: verdict and numbers, the image with its heatmap and boxes, the mask, and the nearest normal patch. */
export function DetectionView({ name, detection: d, visualizations: v, bands, imageUrl }: DetectionViewProps) {
  const [opacity, setOpacity] = useState(0.5);
  const [showBoxes, setShowBoxes] = useState(true);
  const base = imageUrl ?? v?.bounded_url;
  const boxes: Region[] = d.bounding_boxes.map((b) => ({ ...b, tone: b.type === 'Critical' ? 'critical' : 'warning' }));
  const id = name.replace(/\W+/g, '-');
  return (
    <article class="detection card" aria-label={`Result for ${name}`}>
      <header class="detection-head">
        <h3>{name}</h3>
        <span class={`verdict ${d.is_anomalous ? 'bad' : 'good'}`}>{d.is_anomalous ? 'Anomalous' : 'Normal'}</span>
      </header>
      <Facts
        items={[
          ['Score', formatScore(d.anomaly_score)],
          ['Band', <BandBadge band={d.classification} bands={bands} />],
          ['Confidence', d.confidence],
          ['Damaged area', `${d.damage_percentage.toFixed(2)}%`],
          ['Threshold', d.threshold],
          [
            'Model',
            d.model_quality ? (
              <>
                {d.model_version} <QualityBadge quality={d.model_quality} />
              </>
            ) : (
              d.model_version
            ),
          ],
          ['Time', formatDuration(d.processing_time * 1000)],
          d.defect_type_model ? ['Defect types by', d.defect_type_model] : null,
        ]}
      />
      <div class="detection-grid">
        <figure class="detection-figure">
          {base ? (
            <ImageRegions
              src={base}
              alt={`${name}${imageUrl ? '' : ' with its regions outlined'}`}
              size={d.image}
              regions={showBoxes && imageUrl ? boxes : []}
              overlay={v ? { src: v.heatmap_url, alt: 'Heatmap of anomaly scores', opacity } : undefined}
            />
          ) : (
            <div class="image-missing">No image kept for this result</div>
          )}
          {v ? (
            <div class="controls-row">
              <label for={`opacity-${id}`}>Heatmap opacity</label>
              <input
                id={`opacity-${id}`}
                type="range"
                min="0"
                max="1"
                step="0.05"
                value={opacity}
                onInput={(e) => setOpacity(Number(e.currentTarget.value))}
              />
              <output for={`opacity-${id}`}>{formatPercent(opacity)}</output>
              {imageUrl && boxes.length ? (
                <label class="check">
                  <input type="checkbox" checked={showBoxes} onChange={(e) => setShowBoxes(e.currentTarget.checked)} />{' '}
                  Show boxes
                </label>
              ) : null}
            </div>
          ) : (
            <p class="muted">No visualizations were made for this detection.</p>
          )}
        </figure>
        <div class="detection-side">
          <section aria-labelledby={`regions-${id}`}>
            <h4 id={`regions-${id}`}>Regions</h4>
            {boxes.length ? (
              <ul class="box-list">
                {d.bounding_boxes.map((b, i) => (
                  <li key={i}>
                    <span class={`swatch ${b.type === 'Critical' ? 'critical' : 'warning'}`} aria-hidden="true" />
                    Box {i + 1}: {b.type}, peak {formatPercent(b.confidence)}, at {b.x}, {b.y}, {b.width} × {b.height}{' '}
                    px
                    {b.defect_type ? (
                      <>
                        {'; '}
                        <strong class="defect-type">{b.defect_type}</strong>
                        {b.defect_type_confidence === undefined
                          ? null
                          : ` (${formatPercent(b.defect_type_confidence)} sure)`}
                      </>
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : (
              <p class="muted">No anomalous region.</p>
            )}
          </section>
          {v ? (
            <section aria-labelledby={`mask-${id}`}>
              <h4 id={`mask-${id}`}>Mask</h4>
              <img class="mask" src={v.mask_url} alt={`Anomaly mask of ${name}`} />
            </section>
          ) : null}
          {d.evidence ? (
            <section aria-labelledby={`evidence-${id}`}>
              <h4 id={`evidence-${id}`}>Nearest normal patch</h4>
              <p class="muted">
                The most similar patch among the normal images is at distance {d.evidence.distance.toFixed(2)}; the
                further it is, the more unusual this place.
              </p>
              <div class="patches">
                <figure>
                  {base ? (
                    <PatchCloseUp
                      src={base}
                      alt={`The strongest region of ${name}`}
                      patch={d.evidence.patch}
                      size={d.image}
                    />
                  ) : null}
                  <figcaption>This image</figcaption>
                </figure>
                <figure>
                  {d.evidence.nearest_normal.url ? (
                    <PatchCloseUp
                      src={d.evidence.nearest_normal.url}
                      alt={`Nearest normal patch, in ${d.evidence.nearest_normal.image}`}
                      patch={d.evidence.nearest_normal.patch}
                    />
                  ) : null}
                  <figcaption>Normal: {displayName(d.evidence.nearest_normal.image)}</figcaption>
                </figure>
              </div>
            </section>
          ) : null}
        </div>
      </div>
    </article>
  );
}
