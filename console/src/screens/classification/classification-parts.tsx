import type { Schemas } from '../../api/client.ts';

export type Classification = Schemas['Classification'];
export type HeadResult = Schemas['HeadResult'];
export type UploadedModelVersion = Schemas['UploadedModelVersion'];
export type ClassifierEvaluation = NonNullable<Schemas['ClassifierEvaluation']>;

const percent = (v: number) => `${(v * 100).toFixed(1)} %`;

/** Every head of one classification: its label(s), confidence and each class's probability, highest first. */
export function HeadResults({ heads }: { heads: Record<string, HeadResult> }) {
  return (
    <div class="stack">
      {Object.entries(heads).map(([name, head]) => (
        <section key={name} class="card" aria-label={`Head ${name}`}>
          <h3>
            {name}:{' '}
            <strong>
              {head.activation === 'sigmoid'
                ? head.labels.length
                  ? head.labels.join(', ')
                  : 'none over the threshold'
                : head.label}
            </strong>{' '}
            <span class="muted small">
              {head.activation === 'sigmoid'
                ? `several labels at or over ${head.threshold ?? 0.5}`
                : `confidence ${percent(head.confidence)}`}
            </span>
          </h3>
          <table>
            <caption class="visually-hidden">Class probabilities of head {name}</caption>
            <thead>
              <tr>
                <th scope="col">Class</th>
                <th scope="col">Probability</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(head.scores)
                .sort((a, b) => b[1] - a[1])
                .map(([cls, p]) => (
                  <tr key={cls} class={head.labels.includes(cls) ? 'active' : undefined}>
                    <td>{cls}</td>
                    <td>
                      <meter min={0} max={1} value={p} aria-label={`${cls} ${percent(p)}`} /> {percent(p)}
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}

/** A cross-validation's confusion matrix: rows are the true classes, columns the predicted ones. */
export function ConfusionMatrix({ evaluation }: { evaluation: ClassifierEvaluation }) {
  const { classes, confusion_matrix: m } = evaluation;
  return (
    <table class="confusion-matrix">
      <caption>
        Confusion matrix of {evaluation.folds}-fold cross-validation on {evaluation.images} images: accuracy{' '}
        {percent(evaluation.accuracy)}, macro F1 {evaluation.macro_f1.toFixed(3)} (rows: true class; columns: predicted)
      </caption>
      <thead>
        <tr>
          <th scope="col">true \ predicted</th>
          {classes.map((c) => (
            <th key={c} scope="col">
              {c}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {classes.map((c, i) => (
          <tr key={c}>
            <th scope="row">{c}</th>
            {m[i].map((n, j) => (
              <td key={j} class={i === j ? 'diagonal' : n > 0 ? 'off-diagonal' : undefined}>
                {n}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
