import { randomBytes, randomUUID } from 'node:crypto';
import type { CreateProject, Project, UpdateProject } from '../domain/project.ts';
import { projectNotFound, ServiceError } from '../errors.ts';
import { loggableUrl, maskedUrl, resolvesToPrivate } from '../adapters/webhook-sender.ts';
import { canAccessProject, type Principal, requireUnscoped } from '../auth/principal.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { deleteItems } from '../store/table-definition.ts';

/**
 * The public view: the webhook secret is shown once, at creation; the webhook URL with its user info and query values
 * masked (they often carry a token, and every reader of the project would see it). The real URL stays stored.
 */
export const publicProject = ({ webhookSecret, ...project }: ProjectItem): Project => ({ ...project, webhookUrl: project.webhookUrl && maskedUrl(project.webhookUrl) });

/** In AWS a webhook may not point into private networks: said at once, rather than found when an event is dropped. */
async function checkWebhook(s: Services, url: string | null | undefined): Promise<void> {
  if (!url || s.config.FAULTLINE_WEBHOOK_PRIVATE_TARGETS === 'allow') return;
  if (await resolvesToPrivate(url)) throw new ServiceError('VALIDATION_FAILED', `webhookUrl ${loggableUrl(url)} points to a loopback or private address; webhooks go to public addresses only`, { field: 'webhookUrl' });
}

/** A project belongs to the caller who made it (its subject); administrators see every project. */
export async function createProject(s: Services, input: CreateProject, by: Principal): Promise<Project & { webhookSecret: string }> {
  requireUnscoped(by, 'making projects');
  await checkWebhook(s, input.webhookUrl);
  const now = new Date().toISOString();
  const item: ProjectItem = {
    id: randomUUID(),
    name: input.name,
    owner: by.subject,
    description: input.description,
    severityBands: input.severityBands,
    threshold: input.threshold,
    webhookUrl: input.webhookUrl ?? null,
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
 * Refuses a caller who may not use this project (404, as if it did not exist). An administrator may use any project,
 * and whether it exists is checked by the service that uses it: so a detection reads the project once.
 */
export async function authorizeProject(s: Services, id: string, by: Principal): Promise<void> {
  if (!by.admin) await requireProject(s, id, by);
}

/** The projects the caller may see, newest first. */
export async function listProjects(s: Services, by: Principal, limit: number, cursor?: string): Promise<{ items: Project[]; cursor: string | null }> {
  const page = by.admin ? await s.projects.list(limit, cursor) : by.projectIds ? await s.projects.listIds(by.projectIds, limit, cursor) : await s.projects.listOwnedBy(by.subject, limit, cursor);
  return { items: page.items.map(publicProject), cursor: page.cursor };
}

export async function updateProject(s: Services, id: string, input: UpdateProject): Promise<Project> {
  // A client that sends the project back as it read it (the console's settings form) sends the masked URL: the
  // webhook is unchanged then, and the masked form must not replace the real one.
  if (input.webhookUrl) {
    const stored = await s.projects.get(id);
    if (stored?.webhookUrl && input.webhookUrl === maskedUrl(stored.webhookUrl)) input = { ...input, webhookUrl: undefined };
  }
  await checkWebhook(s, input.webhookUrl);
  const updated = await s.projects.update(id, input);
  if (!updated) throw projectNotFound(id);
  return publicProject(updated);
}

/**
 * Deletes a project with everything it owns: its objects (datasets, inbox, models, results), its items and its
 * jobs. The caller repeats the name, so that an id typed by mistake deletes nothing.
 */
export async function deleteProject(s: Services, id: string, confirmName: string): Promise<{ deletedObjects: number; deletedItems: number }> {
  const project = await requireProject(s, id);
  if (confirmName !== project.name) {
    throw new ServiceError('NAME_MISMATCH', `to delete project ${id}, repeat its name exactly in "confirm" (got "${confirmName}")`, { projectId: id });
  }
  let deletedObjects = 0;
  for (const prefix of ['datasets', 'inbox', 'models', 'results']) deletedObjects += await s.objects.deletePrefix(`${prefix}/${id}/`);
  const itemKeys = (await s.results.partitionKeys(id)).filter((k) => k.sk !== 'PROJECT');
  const jobKeys: { pk: string; sk: string }[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.jobs.listByProject(id, 100, cursor);
    jobKeys.push(...page.items.map((j) => ({ pk: `JOB#${j.id}`, sk: 'JOB' })));
    cursor = page.cursor ?? undefined;
  } while (cursor);
  await deleteItems(s.db, s.config.FAULTLINE_TABLE, [...itemKeys, ...jobKeys]);
  await s.projects.delete(id); // last: until then a retry can finish the deletion
  await s.modelCache.evictProject(id);
  s.log({ msg: 'project deleted', projectId: id, deletedObjects, deletedItems: itemKeys.length + jobKeys.length + 1 });
  return { deletedObjects, deletedItems: itemKeys.length + jobKeys.length + 1 };
}
