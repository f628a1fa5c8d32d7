import { useEffect } from 'preact/hooks';
import { api, call, type Project } from '../api/client.ts';
import { ErrorNotice, Skeleton } from '../components/status.tsx';
import { useResource } from '../hooks/use-resource.ts';
import { Link } from '../router.tsx';
import { DatasetScreen } from './dataset.tsx';
import { ResultDetailScreen } from './result-detail.tsx';
import { ResultsScreen } from './results.tsx';
import { ReviewsScreen } from './reviews.tsx';
import { SettingsScreen } from './settings.tsx';
import { TestScreen } from './test-images.tsx';
import { TrainingScreen } from './training.tsx';
import { ClassifierModelsScreen } from './classification/classifier-models.tsx';
import { ClassificationsScreen, ClassifyScreen } from './classification/classify-images.tsx';
import { DetectorModelsScreen } from './object-detection/detector-models.tsx';
import { DetectObjectsScreen, ObjectDetectionsScreen } from './object-detection/detect-objects.tsx';
import { SENSORS_TABS, SensorsScreen, sensorsTabOf } from './sensors/sensors-project.tsx';

export interface ProjectTabProps {
  project: Project;
  /** Loads the project again (counts, active model). */
  reloadProject: () => Promise<void>;
  setProject: (project: Project) => void;
}

const TABS = [
  { id: 'images', label: 'Images' },
  { id: 'training', label: 'Training' },
  { id: 'test', label: 'Test' },
  { id: 'results', label: 'Results' },
  { id: 'reviews', label: 'Reviews' },
  { id: 'settings', label: 'Settings' },
] as const;

/** A classification project's screens: its models (upload, evaluation), tests with every head, its results. */
const CLASSIFICATION_TABS = [
  { id: 'models', label: 'Models' },
  { id: 'test', label: 'Test' },
  { id: 'results', label: 'Results' },
  { id: 'settings', label: 'Settings' },
] as const;

/** One project: its name and state, a navigation between its screens, and the screen chosen. */
export function ProjectScreen({ projectId, tab, itemId }: { projectId: string; tab: string; itemId?: string }) {
  const project = useResource(
    () => call(api().GET('/api/v1/projects/{projectId}', { params: { path: { projectId } } })),
    [projectId],
  );
  // Classification and object-detection projects have the same screens, each kind its own content.
  const tabs =
    project.data?.kind === 'sensors'
      ? SENSORS_TABS
      : project.data?.kind === 'anomaly' || !project.data
        ? TABS
        : CLASSIFICATION_TABS;
  const navTab = project.data?.kind === 'sensors' ? sensorsTabOf(tab) : tab;
  const current = tabs.find((t) => t.id === navTab);
  useEffect(() => {
    if (project.data) document.title = `${current?.label ?? 'Project'} · ${project.data.name} · Faultline`;
  }, [project.data, current]);

  if (!project.data) {
    return (
      <div class="page">
        {project.error ? (
          <ErrorNotice error={project.error} title="The project could not be loaded" onRetry={project.reload} />
        ) : (
          <Skeleton rows={4} label="Loading the project" />
        )}
        <p>
          <Link href="/">Back to the projects</Link>
        </p>
      </div>
    );
  }
  const p = project.data;
  const props: ProjectTabProps = { project: p, reloadProject: project.reload, setProject: project.set };
  return (
    <div class="project-layout">
      <aside class="project-nav">
        <p class="crumb">
          <Link href="/">Projects</Link>
        </p>
        <p class="project-name">{p.name}</p>
        {p.kind === 'sensors' ? (
          <p class="muted small">Sensors: sites, assets, metrics</p>
        ) : (
          <p class="muted small">
            {p.imageCount} images · {p.activeModelVersion ? `model v${p.activeModelVersion}` : 'no model yet'}
          </p>
        )}
        <nav aria-label="Project">
          <ul>
            {tabs.map((t) => (
              <li key={t.id}>
                <Link
                  href={`/projects/${p.id}/${t.id}`}
                  aria-current={t.id === navTab && !itemId ? 'page' : undefined}
                  class={t.id === navTab ? 'active' : undefined}
                >
                  {t.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <div class="page">
        {p.kind === 'sensors' ? (
          <SensorsScreen {...props} tab={tab} itemId={itemId} />
        ) : p.kind === 'object-detection' && tab !== 'settings' ? (
          tab === 'models' ? (
            <DetectorModelsScreen {...props} />
          ) : tab === 'test' ? (
            <DetectObjectsScreen {...props} />
          ) : tab === 'results' ? (
            <ObjectDetectionsScreen {...props} />
          ) : (
            <>
              <h1>Page not found</h1>
              <p>
                This object-detection project has no page “{tab}”.{' '}
                <Link href={`/projects/${p.id}/models`}>Go to its models</Link>.
              </p>
            </>
          )
        ) : p.kind === 'classification' && tab !== 'settings' ? (
          tab === 'models' ? (
            <ClassifierModelsScreen {...props} />
          ) : tab === 'test' ? (
            <ClassifyScreen {...props} />
          ) : tab === 'results' ? (
            <ClassificationsScreen {...props} />
          ) : (
            <>
              <h1>Page not found</h1>
              <p>
                This classification project has no page “{tab}”.{' '}
                <Link href={`/projects/${p.id}/models`}>Go to its models</Link>.
              </p>
            </>
          )
        ) : tab === 'images' ? (
          <DatasetScreen {...props} />
        ) : tab === 'training' ? (
          <TrainingScreen {...props} />
        ) : tab === 'test' ? (
          <TestScreen {...props} />
        ) : tab === 'results' && itemId ? (
          <ResultDetailScreen {...props} resultId={itemId} />
        ) : tab === 'results' ? (
          <ResultsScreen {...props} />
        ) : tab === 'reviews' ? (
          <ReviewsScreen {...props} />
        ) : tab === 'settings' ? (
          <SettingsScreen {...props} />
        ) : (
          <>
            <h1>Page not found</h1>
            <p>
              This project has no page “{tab}”. <Link href={`/projects/${p.id}/images`}>Go to its images</Link>.
            </p>
          </>
        )}
      </div>
    </div>
  );
}
