import { api, call } from '../api/client.ts';
import { DetectionView } from '../components/detection-view.tsx';
import { ReviewPanel } from '../components/review-panel.tsx';
import { ErrorNotice, Skeleton } from '../components/status.tsx';
import { formatTime } from '../format.ts';
import { useResource } from '../hooks/use-resource.ts';
import { Link } from '../router.tsx';
import type { ProjectTabProps } from './project.tsx';

/** One stored result in full. */
export function ResultDetailScreen({ project, resultId }: ProjectTabProps & { resultId: string }) {
  const result = useResource(
    () =>
      call(
        api().GET('/api/v1/projects/{projectId}/results/{resultId}', {
          params: { path: { projectId: project.id, resultId } },
        }),
      ),
    [project.id, resultId],
  );
  const r = result.data;
  return (
    <>
      <p class="crumb">
        <Link href={`/projects/${project.id}/results`}>← All results</Link>
      </p>
      <h1>Result</h1>
      {result.error ? (
        <ErrorNotice error={result.error} title="The result could not be loaded" onRetry={result.reload} />
      ) : !r ? (
        <Skeleton rows={5} label="Loading the result" />
      ) : (
        <>
          <p class="muted">
            {formatTime(r.createdAt)} ·{' '}
            {r.source.kind === 'inbox' ? `drop folder, batch ${r.batchId}` : 'tested through the API'} · id {r.id}
          </p>
          <DetectionView
            name={r.source.name}
            detection={r.result}
            visualizations={r.visualizations}
            bands={project.severityBands}
            imageUrl={r.image_url}
          />
          <ReviewPanel result={r} onReviewed={(review) => result.set({ ...r, review })} onStale={result.reload} />
        </>
      )}
    </>
  );
}
