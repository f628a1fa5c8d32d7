import { randomBytes, randomUUID } from 'node:crypto';
import { DEFAULT_WEBHOOK_EVENTS } from '../domain/events.ts';
import { type CreateProject, DEFAULT_PROJECT_KIND, type Project, type UpdateProject } from '../domain/project.ts';
import { projectNotFound, ServiceError } from '../errors.ts';
import { loggableUrl, maskedUrl, resolvesToPrivate } from '../adapters/webhook-sender.ts';
import { canAccessProject, type Principal, requireUnscoped } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../ports/project-store.ts';
import { PROJECT_FOLDERS } from '../object-keys.ts';

/**
 * The public view: the webhook secret is shown once, at creation; the webhook URL with its user info and query values
 * masked (they often carry a token, and every reader of the project would see it). The real URL stays stored.
 */
export const publicProject = ({ webhookSecret, ...project }: ProjectItem): Project => ({
  ...project,
  webhookUrl: project.webhookUrl && maskedUrl(project.webhookUrl),
});

/** In AWS a webhook may not point into private networks: said at once, rather than found when an event is dropped. */
async function checkWebhook(s: Services, url: string | null | undefined): Promise<void> {
  if (!url || s.config.FAULTLINE_WEBHOOK_PRIVATE_TARGETS === 'allow') return;
  if (await resolvesToPrivate(url))
    throw new ServiceError(
      'VALIDATION_FAILED',
      `webhookUrl ${loggableUrl(url)} points to a loopback or private address; webhooks go to public addresses only`,
      { field: 'webhookUrl' },
    );
}

/** A project belongs to the caller who made it (its subject); administrators see every project. */
export async function createProject(
  s: Services,
  input: CreateProject,
  by: Principal,
  /** A chosen id (a project named by an older contract's key, e.g. a scene id); the write is refused if it exists. */
  id: string = randomUUID(),
): Promise<Project & { webhookSecret: string }> {
  requireUnscoped(by, 'making projects');
  await checkWebhook(s, input.webhookUrl);
  const now = new Date().toISOString();
  const item: ProjectItem = {
    id,
    name: input.name,
    kind: input.kind ?? DEFAULT_PROJECT_KIND,
    owner: by.subject,
    description: input.description,
    severityBands: input.severityBands,
    threshold: input.threshold,
    webhookUrl: input.webhookUrl ?? null,
    webhookEvents: input.webhookEvents ?? [...DEFAULT_WEBHOOK_EVENTS],
    keepFlaggedImages: input.keepFlaggedImages ?? false,
    ...(input.inspection ? { inspection: input.inspection } : {}),
    webhookSecret: randomBytes(24).toString('base64url'),
    imageCount: 0,
    activeModelVersion: null,
    latestModelVersion: null,
    createdAt: now,
    updatedAt: now,
  };
  await s.projects.create(item);
  s.log({ msg: 'project created', projectId: item.id, name: item.name });
  return { ...publicProject(item), webhookSecret: item.webhookSecret };
}

/** The project; with a caller, only if they may see it (another's project reads as missing, so ids cannot be probed). */
export async function requireProject(s: Services, id: string, by?: Principal): Promise<ProjectItem> {
  const project = await s.projects.get(id);
  if (!project || (by && !canAccessProject(by, project))) throw projectNotFound(id);
  return project;
}

/**
 * Refuses a caller who may not use this project (404, as if it did not exist). For anyone but an administrator this
 * reads the project; an administrator may use any project, so for them nothing is read here and whether the project
 * exists is left to the service that uses it. The project read is returned, for a service that may use it as read.
 */
export async function authorizeProject(s: Services, id: string, by: Principal): Promise<ProjectItem | undefined> {
  return by.admin ? undefined : requireProject(s, id, by);
}

/** The projects the caller may see, newest first. */
export async function listProjects(
  s: Services,
  by: Principal,
  limit: number,
  cursor?: string,
): Promise<{ items: Project[]; cursor: string | null }> {
  const page = by.admin
    ? await s.projects.list(limit, cursor)
    : by.projectIds
      ? await s.projects.listIds(by.projectIds, limit, cursor)
      : await s.projects.listOwnedBy(by.subject, limit, cursor);
  return { items: page.items.map(publicProject), cursor: page.cursor };
}

export async function updateProject(s: Services, id: string, input: UpdateProject): Promise<Project> {
  // A client that sends the project back as it read it (the console's settings form) sends the masked URL: the
  // webhook is unchanged then, and the masked form must not replace the real one.
  if (input.webhookUrl) {
    const stored = await s.projects.get(id);
    if (stored?.webhookUrl && input.webhookUrl === maskedUrl(stored.webhookUrl))
      input = { ...input, webhookUrl: undefined };
  }
  await checkWebhook(s, input.webhookUrl);
  const updated = await s.projects.update(id, input);
  if (!updated) throw projectNotFound(id);
  return publicProject(updated);
}

/**
 * Deletes a project with everything it owns: its objects, its items, its jobs and their idempotency keys. The caller
 * repeats the name, so that an id typed by mistake deletes nothing. Deletion wins over work under way: the project is
 * first marked, so that it is gone for every reader and no job can commit to it (jobs check after writing, and sweep
 * what they wrote if it is gone; see commitToProject); the project item itself goes last, so a retry can finish.
 */
export async function deleteProject(
  s: Services,
  id: string,
  confirmName: string,
): Promise<{ deletedObjects: number; deletedItems: number }> {
  const project = await s.projects.getForDeletion(id);
  if (!project) throw projectNotFound(id);
  if (confirmName !== project.name) {
    throw new ServiceError(
      'NAME_MISMATCH',
      `to delete project ${id}, repeat its name exactly in "confirm" (got "${confirmName}")`,
      { projectId: id },
    );
  }
  if (!(await s.projects.markDeleting(id))) throw projectNotFound(id);
  return finishDeletion(s, id);
}

/** The rest of a deletion once the project is marked; also run at start for deletions a dead process left unfinished. */
export async function finishDeletion(
  s: Services,
  id: string,
): Promise<{ deletedObjects: number; deletedItems: number }> {
  const swept = await sweepProject(s, id);
  await s.projects.delete(id);
  await s.modelCache.evictProject(id);
  s.log({ msg: 'project deleted', projectId: id, deletedObjects: swept.objects, deletedItems: swept.items + 1 });
  return { deletedObjects: swept.objects, deletedItems: swept.items + 1 };
}

/** Removes everything a project owns but its own record: objects, records stored under it, jobs and their idempotency keys. */
async function sweepProject(s: Services, id: string): Promise<{ objects: number; items: number }> {
  let objects = 0;
  for (const folder of PROJECT_FOLDERS) objects += await s.objects.deletePrefix(`${folder}/${id}/`);
  // A sensors project's metrics keep their detector state and points outside its partition: swept after the
  // metrics are gone, so a consumer writing meanwhile either is swept here or finds its metric gone and sweeps itself.
  const metrics = await s.sensors.listMetrics(id);
  const items = (await s.projects.deleteContents(id)) + (await s.jobs.deleteAllOf(id));
  for (const m of metrics) await s.series.deleteSeries(m.id);
  return { objects, items };
}

/**
 * Called by work after it has written for a project (a model, a result, a job): if the project is gone or being
 * deleted, what was written is swept and the work ends with PROJECT_NOT_FOUND. Checking after writing closes the race
 * with a deletion: either the write came before the deletion's mark, and the deletion's sweep finds it, or the check
 * sees the mark.
 */
export async function commitToProject(s: Services, id: string): Promise<ProjectItem> {
  const project = await s.projects.get(id);
  if (project) return project;
  return abandonForGoneProject(s, id);
}

/**
 * For work whose commit found its project gone (a conditional write refused, as a detection's result is): sweeps
 * what it wrote, as commitToProject does, and ends with PROJECT_NOT_FOUND.
 */
export async function abandonForGoneProject(s: Services, id: string): Promise<never> {
  await sweepProject(s, id);
  throw projectNotFound(id);
}
