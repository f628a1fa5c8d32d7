import { useEffect, useState } from 'preact/hooks';
import { api, call } from '../../api/client.ts';
import type { Site } from '../../api/sensors.ts';
import { ConfirmDialog } from '../../components/confirm-dialog.tsx';
import { EmptyState, ErrorNotice, Skeleton } from '../../components/status.tsx';
import { useResource } from '../../hooks/use-resource.ts';
import { Link } from '../../router.tsx';
import type { ProjectTabProps } from '../project.tsx';
import { RowActions } from '../../components/row-actions.tsx';

/** Time zones the browser knows, offered as suggestions (the API checks the name). */
const TIME_ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
})();

/** A sensors project's sites: places with a location and a time zone, each with its assets. */
export function SitesScreen({ project }: ProjectTabProps) {
  const sites = useResource(
    () =>
      call(api().GET('/api/v1/projects/{projectId}/sites', { params: { path: { projectId: project.id } } })).then(
        (r) => r.items,
      ),
    [project.id],
  );
  const [editing, setEditing] = useState<string>();
  const [deleting, setDeleting] = useState<Site>();
  const [announcement, setAnnouncement] = useState('');
  const list = sites.data ?? [];
  return (
    <>
      <h1>Sites</h1>
      <p class="lead">
        A site is a place with its time zone; its assets (machines) report metrics, which are scored as their points
        arrive.
      </p>
      <section class="card" aria-labelledby="new-site">
        <h2 id="new-site">New site</h2>
        <SiteForm
          projectId={project.id}
          submitLabel="Create site"
          onSaved={(site) => {
            sites.set([...list, site]);
            setAnnouncement(`Site ${site.name} created.`);
          }}
        />
      </section>
      <section aria-labelledby="all-sites">
        <h2 id="all-sites">All sites</h2>
        <p class="visually-hidden" aria-live="polite">
          {announcement}
        </p>
        {sites.loading && !sites.data ? (
          <Skeleton rows={3} label="Loading sites" />
        ) : sites.error ? (
          <ErrorNotice error={sites.error} title="The sites could not be loaded" onRetry={sites.reload} />
        ) : list.length === 0 ? (
          <EmptyState title="No sites yet">Create one above, then add its assets and their metrics.</EmptyState>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Sites</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Location</th>
                  <th scope="col">Time zone</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((site) =>
                  editing === site.id ? (
                    <tr key={site.id}>
                      <td colSpan={4}>
                        <SiteForm
                          projectId={project.id}
                          site={site}
                          submitLabel="Save site"
                          onCancel={() => setEditing(undefined)}
                          onSaved={(saved) => {
                            sites.set(list.map((s) => (s.id === saved.id ? saved : s)));
                            setEditing(undefined);
                            setAnnouncement(`Site ${saved.name} saved.`);
                          }}
                        />
                      </td>
                    </tr>
                  ) : (
                    <tr key={site.id}>
                      <td>
                        <Link href={`/projects/${project.id}/sites/${site.id}`}>{site.name}</Link>
                      </td>
                      <td>{describeLocation(site) || <span class="muted">Not given</span>}</td>
                      <td>{site.timeZone}</td>
                      <RowActions
                        name={site.name}
                        onEdit={() => setEditing(site.id)}
                        onDelete={() => setDeleting(site)}
                      />
                    </tr>
                  ),
                )}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {deleting ? (
        <ConfirmDialog
          title={`Delete the site “${deleting.name}”?`}
          confirmLabel="Delete site"
          onClose={() => setDeleting(undefined)}
          action={async () => {
            await call(
              api().DELETE('/api/v1/projects/{projectId}/sites/{siteId}', {
                params: { path: { projectId: project.id, siteId: deleting.id } },
              }),
            );
            sites.set(list.filter((s) => s.id !== deleting.id));
            setAnnouncement(`Site ${deleting.name} deleted.`);
          }}
        >
          Its assets and their metrics, with their points, anomalies and detector state, are deleted for good.
        </ConfirmDialog>
      ) : null}
    </>
  );
}

export function describeLocation(site: Site): string {
  const { latitude, longitude, address } = site.location;
  const coordinates =
    latitude !== undefined && longitude !== undefined ? `${latitude.toFixed(4)}, ${longitude.toFixed(4)}` : '';
  return [address, coordinates].filter(Boolean).join(' · ');
}

/** A number field's value: undefined when empty, NaN when not a number (the API says what is wrong with it). */
export const numberOrUndefined = (text: string): number | undefined => (text.trim() === '' ? undefined : Number(text));

/** Creates a site, or changes one when `site` is given. */
export function SiteForm({
  projectId,
  site,
  submitLabel,
  onSaved,
  onCancel,
}: {
  projectId: string;
  site?: Site;
  submitLabel: string;
  onSaved: (site: Site) => void;
  onCancel?: () => void;
}) {
  const [name, setName] = useState(site?.name ?? '');
  const [timeZone, setTimeZone] = useState(site?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const [latitude, setLatitude] = useState(site?.location.latitude?.toString() ?? '');
  const [longitude, setLongitude] = useState(site?.location.longitude?.toString() ?? '');
  const [address, setAddress] = useState(site?.location.address ?? '');
  const [state, setState] = useState<{ busy: boolean; error?: unknown }>({ busy: false });
  useEffect(() => setState({ busy: false }), [site?.id]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    const location = {
      latitude: numberOrUndefined(latitude),
      longitude: numberOrUndefined(longitude),
      address: address.trim() || undefined,
    };
    try {
      const saved = site
        ? await call(
            api().PATCH('/api/v1/projects/{projectId}/sites/{siteId}', {
              params: { path: { projectId, siteId: site.id } },
              body: { name, timeZone, location },
            }),
          )
        : await call(
            api().POST('/api/v1/projects/{projectId}/sites', {
              params: { path: { projectId } },
              body: { name, timeZone, location },
            }),
          );
      setState({ busy: false });
      if (!site) {
        setName('');
        setLatitude('');
        setLongitude('');
        setAddress('');
      }
      onSaved(saved);
    } catch (error) {
      setState({ busy: false, error });
    }
  };
  return (
    <form class="inline-form" aria-label={site ? `Edit site ${site.name}` : 'New site'} onSubmit={submit}>
      <label class="field">
        <span>Site name</span>
        <input value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} />
      </label>
      <label class="field">
        <span>Time zone</span>
        <input
          value={timeZone}
          onInput={(e) => setTimeZone(e.currentTarget.value)}
          list="time-zones"
          required
          maxLength={64}
        />
      </label>
      <label class="field narrow">
        <span>Latitude</span>
        <input value={latitude} onInput={(e) => setLatitude(e.currentTarget.value)} inputMode="decimal" />
      </label>
      <label class="field narrow">
        <span>Longitude</span>
        <input value={longitude} onInput={(e) => setLongitude(e.currentTarget.value)} inputMode="decimal" />
      </label>
      <label class="field grow">
        <span>Address (optional)</span>
        <input value={address} onInput={(e) => setAddress(e.currentTarget.value)} maxLength={500} />
      </label>
      <datalist id="time-zones">
        {TIME_ZONES.map((z) => (
          <option key={z} value={z} />
        ))}
      </datalist>
      <button type="submit" class="button" disabled={state.busy || !name.trim()}>
        {state.busy ? 'Saving…' : submitLabel}
      </button>
      {onCancel ? (
        <button type="button" class="button secondary" onClick={onCancel}>
          Cancel
        </button>
      ) : null}
      {state.error ? (
        <ErrorNotice error={state.error} title={site ? 'The site was not saved' : 'The site was not created'} />
      ) : null}
    </form>
  );
}
