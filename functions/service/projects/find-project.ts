import type { Principal } from '../auth/principal.ts';
import { projectNotFound, ServiceError } from '../errors.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { listProjects, requireProject } from './projects-service.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Projects read at most, looking for a name (the caller's own projects, 100 a page). */
const MAX_PAGES = 20;

/**
 * A project named by an older contract that knows projects by name (Lookout for Vision's ProjectName): its id, or
 * the name of exactly one of the caller's projects. Two of the caller's projects with that name: 409, name it by id.
 */
export async function projectByIdOrName(s: Services, ref: string, by: Principal): Promise<ProjectItem> {
  if (UUID.test(ref)) return requireProject(s, ref, by);
  const found: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, cursor: next } = await listProjects(s, by, 100, cursor);
    found.push(...items.filter((p) => p.name === ref).map((p) => p.id));
    if (!next) break;
    cursor = next;
  }
  if (found.length === 0) throw projectNotFound(ref);
  if (found.length > 1)
    throw new ServiceError('CONFLICT', `${found.length} projects are named ${ref}: name the project by its id`, {
      projectIds: found,
    });
  return requireProject(s, found[0]!, by);
}
