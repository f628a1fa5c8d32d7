import { registerDatasetObject, unregisterDatasetObject } from '../datasets/datasets-service.ts';
import { inboxJobKey } from '../domain/job.ts';
import { API_BATCH, decodeS3Key, inboxBatch, parseKey, rejectedKey, parseMetricsKey } from '../object-keys.ts';
import { takeMetricsFile } from '../sensors/points-drop-folder.ts';
import type { Services } from '../services.ts';
import { createJob } from './jobs-service.ts';
import { type JobAttempt, runJob } from './run-job.ts';
import type { ObjectEvent } from './work-message.ts';

/**
 * One S3 notification for a project's folders: a dataset image registered or unregistered, or a drop-folder image
 * detected at once by a detection job (made once per object version, so a repeated notification reruns nothing).
 * The key is parsed once and the project read once, both handed on to the job. Keys of other folders are ignored.
 */
export async function takeObjectEvent(s: Services, r: ObjectEvent, attempt: JobAttempt): Promise<void> {
  const key = decodeS3Key(r.key);
  if (r.event.startsWith('ObjectCreated') && parseMetricsKey(key)) return takeMetricsDrop(s, key);
  const parsed = parseKey(key);
  if (!parsed) return; // not ours (results/, models/ or foreign keys)
  const created = r.event.startsWith('ObjectCreated');
  if (parsed.folder === 'datasets') {
    if (created) await registerDatasetObject(s, parsed.projectId, key);
    else if (r.event.startsWith('ObjectRemoved')) await unregisterDatasetObject(s, parsed.projectId, key);
    return;
  }
  if (parsed.folder !== 'inbox' || !created) return;
  const project = await s.projects.get(parsed.projectId);
  if (!project) return setAside(s, key, parsed.projectId, parsed.rest, `there is no project ${parsed.projectId}`);
  if (inboxBatch(parsed.rest) === API_BATCH)
    return setAside(
      s,
      key,
      parsed.projectId,
      parsed.rest,
      `the drop-folder folder "${API_BATCH}" is reserved for the API's own detections; use another folder name`,
    );
  // Made RUNNING by this worker in the request that claims its key: this message is its queue.
  const { job, started } = await createJob(s, {
    projectId: parsed.projectId,
    type: 'detect',
    input: { key },
    idempotencyKey: inboxJobKey(r.bucket, key, r.version),
    startBy: attempt.workerId,
  });
  await runJob(s, job.id, attempt, { started: started ? job : undefined, project, inbox: { key, rest: parsed.rest } });
}

/** A CSV of sensor points under metrics/{siteId}/: onto the point stream, or set aside with the reason. */
async function takeMetricsDrop(s: Services, key: string): Promise<void> {
  const outcome = await takeMetricsFile(s, key);
  if (outcome.status === 'refused') return setAside(s, key, outcome.projectId, key, outcome.reason);
  s.log({ level: outcome.status === 'ignored' ? 'warn' : 'info', msg: 'metrics drop-folder file', key, ...outcome });
}

/**
 * Moves a drop-folder object that will never be detected to rejected/ with the reason in its metadata, so that it
 * is neither lost nor queued again at every start.
 */
async function setAside(s: Services, key: string, projectId: string, rest: string, reason: string): Promise<void> {
  const to = rejectedKey(projectId, rest);
  const moved = await s.objects.move(key, to, {
    'faultline-reason': reason.replace(/[^\x20-\x7e]/g, '?'),
    'faultline-source': encodeURI(key),
  });
  s.log({
    level: 'warn',
    msg: moved ? 'drop-folder object set aside' : 'drop-folder object refused, already gone',
    key,
    to: moved ? to : undefined,
    reason,
  });
}
