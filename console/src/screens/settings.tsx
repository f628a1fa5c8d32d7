import { useState } from 'preact/hooks';
import { api, call, type SeverityBand, WEBHOOK_EVENTS, type WebhookEvent } from '../api/client.ts';
import { ConfirmDelete } from '../components/confirm-delete.tsx';
import { DefectClassifierLink } from '../components/defect-classifier-link.tsx';
import { ErrorNotice } from '../components/status.tsx';
import { navigate } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

interface BandRow {
  name: string;
  below: string;
}

/** The project's name, decision threshold, severity bands and webhook; and its deletion. */
export function SettingsScreen({ project, setProject }: ProjectTabProps) {
  const [name, setName] = useState(project.name);
  const [description, setDescription] = useState(project.description);
  const [threshold, setThreshold] = useState(String(project.threshold));
  const [webhook, setWebhook] = useState(project.webhookUrl ?? '');
  const [keepFlagged, setKeepFlagged] = useState(project.keepFlaggedImages ?? false);
  const [webhookEvents, setWebhookEvents] = useState<WebhookEvent[]>(project.webhookEvents);
  const [bands, setBands] = useState<BandRow[]>(
    project.severityBands.map((b) => ({ name: b.name, below: b.below === undefined ? '' : String(b.below) })),
  );
  const [state, setState] = useState<{ busy: boolean; error?: unknown; saved?: boolean }>({ busy: false });
  const [deleting, setDeleting] = useState(false);

  const setBand = (i: number, change: Partial<BandRow>) =>
    setBands((b) => b.map((row, j) => (j === i ? { ...row, ...change } : row)));
  const save = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    const severityBands: SeverityBand[] = bands.map((b, i) =>
      i === bands.length - 1 ? { name: b.name.trim() } : { name: b.name.trim(), below: Number(b.below) },
    );
    try {
      const updated = await call(
        api().PATCH('/api/v1/projects/{projectId}', {
          params: { path: { projectId: project.id } },
          body: {
            name,
            description,
            threshold: Number(threshold),
            severityBands,
            webhookUrl: webhook.trim() ? webhook.trim() : null,
            webhookEvents,
            keepFlaggedImages: keepFlagged,
          },
        }),
      );
      setProject(updated);
      setState({ busy: false, saved: true });
    } catch (error) {
      setState({ busy: false, error });
    }
  };

  return (
    <>
      <h1>Settings</h1>
      <form class="card settings" onSubmit={save} aria-labelledby="settings-title">
        <h2 id="settings-title">Project</h2>
        <label class="field">
          <span>Name</span>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
        </label>
        <label class="field">
          <span>Description</span>
          <textarea
            value={description}
            onInput={(e) => setDescription(e.currentTarget.value)}
            maxLength={2000}
            rows={2}
          />
        </label>
        <label class="field">
          <span>Decision threshold</span>
          <input
            type="number"
            min="0.01"
            max="0.99"
            step="0.01"
            value={threshold}
            onInput={(e) => setThreshold(e.currentTarget.value)}
            required
            aria-describedby="threshold-help"
          />
          <small id="threshold-help">
            On the normalised score: 0.5 is the calibrated threshold; lower finds more, with more false alarms.
          </small>
        </label>
        <fieldset>
          <legend>Severity bands</legend>
          <p class="muted small">
            Lowest first; each band ends below its bound, the last takes the rest (scores go from 0 to 1).
          </p>
          {bands.map((b, i) => (
            <div class="band-row" key={i}>
              <label class="field">
                <span>Band {i + 1} name</span>
                <input value={b.name} onInput={(e) => setBand(i, { name: e.currentTarget.value })} required />
              </label>
              {i < bands.length - 1 ? (
                <label class="field">
                  <span>Band {i + 1} up to (below)</span>
                  <input
                    type="number"
                    min="0.01"
                    max="1"
                    step="0.01"
                    value={b.below}
                    onInput={(e) => setBand(i, { below: e.currentTarget.value })}
                    required
                  />
                </label>
              ) : (
                <p class="muted small band-rest">and above</p>
              )}
              <button
                type="button"
                class="button secondary small"
                aria-label={`Remove band ${i + 1}`}
                onClick={() => setBands((rows) => rows.filter((_, j) => j !== i))}
                disabled={bands.length === 1}
              >
                Remove
              </button>
            </div>
          ))}
          <button
            type="button"
            class="button secondary small"
            onClick={() =>
              setBands((rows) => [
                ...rows.slice(0, -1),
                { ...rows[rows.length - 1], below: rows[rows.length - 1].below || '0.9' },
                { name: 'New band', below: '' },
              ])
            }
            disabled={bands.length >= 10}
          >
            Add a band
          </button>
        </fieldset>
        <label class="field">
          <span>Webhook URL</span>
          <input
            type="url"
            value={webhook}
            onInput={(e) => setWebhook(e.currentTarget.value)}
            placeholder="https://example.com/faultline"
            aria-describedby="webhook-help"
          />
          <small id="webhook-help">Receives the events chosen below as signed POSTs; leave empty for none.</small>
        </label>
        <fieldset class="webhook-events">
          <legend>Webhook events</legend>
          {WEBHOOK_EVENTS.map((type) => (
            <label class="check" key={type}>
              <input
                type="checkbox"
                checked={webhookEvents.includes(type)}
                onChange={(e) =>
                  setWebhookEvents((chosen) =>
                    e.currentTarget.checked
                      ? WEBHOOK_EVENTS.filter((t) => t === type || chosen.includes(t))
                      : chosen.filter((t) => t !== type),
                  )
                }
              />{' '}
              {type}
            </label>
          ))}
        </fieldset>
        <label class="check">
          <input
            type="checkbox"
            checked={keepFlagged}
            onChange={(e) => setKeepFlagged(e.currentTarget.checked)}
            aria-describedby="keep-help"
          />{' '}
          Keep the images of flagged tests
        </label>
        <small id="keep-help" class="muted">
          Images sent through the API (and the Test screen) are not kept; with this on, a flagged one is kept beside its
          result, so that a false alarm reviewed Normal can be learnt (Reviews). Drop-folder images are always kept.
        </small>
        <div aria-live="polite">
          {state.error ? (
            <ErrorNotice error={state.error} title="Not saved" />
          ) : state.saved ? (
            <p class="notice notice-ok">Saved.</p>
          ) : null}
        </div>
        <button type="submit" class="button" disabled={state.busy}>
          {state.busy ? 'Saving…' : 'Save settings'}
        </button>
      </form>
      {project.kind === 'anomaly' ? <DefectClassifierLink project={project} setProject={setProject} /> : null}
      <section class="card danger-zone" aria-labelledby="danger-title">
        <h2 id="danger-title">Delete this project</h2>
        <p>Deletes its images, models, jobs and results. This cannot be undone.</p>
        <button type="button" class="button danger" onClick={() => setDeleting(true)}>
          Delete project…
        </button>
      </section>
      {deleting ? (
        <ConfirmDelete
          project={project}
          onClose={() => setDeleting(false)}
          onDeleted={() => navigate('/', { replace: true })}
        />
      ) : null}
    </>
  );
}
