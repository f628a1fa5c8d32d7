import { inboxJobKey, type JobMessage } from '../domain/job.ts';
import type { Log } from '../log.ts';
import { METRICS_FOLDER, parseKey, parseMetricsKey } from '../object-keys.ts';
import { finishDeletion } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import { objectCreatedMessage } from './work-message.ts';

/**
 * After a restart with a queue that lost its messages (the local runtime's is in memory): deletions cut short are
 * finished, jobs still QUEUED or RUNNING are queued again, and drop-folder or dataset objects whose notifications
 * were lost (stored while the process was stopping) are delivered again. Every step is idempotent, so finding
 * something already done costs nothing.
 */
export async function recoverUnfinishedWork(s: Services, bucket: string, log: Log): Promise<void> {
  for (const project of await s.projects.listDeleting()) await finishDeletion(s, project.id);
  const jobs = await s.jobs.allUnfinished();
  for (const job of jobs) await s.queue.send({ kind: 'job', jobId: job.id } satisfies JobMessage);
  let inbox = 0;
  let datasets = 0;
  const registered = new Map<string, Set<string>>();
  const isRegistered = async (projectId: string, key: string) => {
    if (!registered.has(projectId))
      registered.set(projectId, new Set((await s.images.all(projectId)).map((i) => i.key)));
    return registered.get(projectId)!.has(key);
  };
  // A process killed between claiming a job's idempotency key and writing the job leaves a key without a job: that
  // object is not known yet (the worker completes the claim when the notification comes again).
  const hasInboxJob = async (key: string, etag: string) => {
    const id = await s.jobs.findByIdempotencyKey(inboxJobKey(bucket, key, etag));
    return id !== undefined && (await s.jobs.get(id)) !== undefined;
  };
  for (const folder of ['inbox', 'datasets'] as const) {
    let cursor: string | undefined;
    do {
      const page = await s.objects.list(`${folder}/`, { limit: 1000, cursor });
      for (const o of page.objects) {
        const parsed = parseKey(o.key);
        if (!parsed) continue;
        const known =
          folder === 'inbox' ? await hasInboxJob(o.key, o.etag ?? '') : await isRegistered(parsed.projectId, o.key);
        if (known) continue;
        await s.queue.send(objectCreatedMessage(bucket, o));
        if (folder === 'inbox') inbox++;
        else datasets++;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  // The sensors drop folder: a file is removed once its points are on the stream, so any file still there is unread
  // (or was cut short: its points sent already are then not after their metric's last and are counted as dropped).
  let metricsFiles = 0;
  let cursor: string | undefined;
  do {
    const page = await s.objects.list(`${METRICS_FOLDER}/`, { limit: 1000, cursor });
    for (const o of page.objects) {
      if (!parseMetricsKey(o.key)) continue;
      await s.queue.send(objectCreatedMessage(bucket, o));
      metricsFiles++;
    }
    cursor = page.cursor;
  } while (cursor);
  if (jobs.length + inbox + datasets + metricsFiles > 0)
    log({
      msg: 'recovered unfinished work',
      jobs: jobs.length,
      inboxObjects: inbox,
      datasetObjects: datasets,
      metricsFiles,
    });
}
