import { createHash } from 'node:crypto';
import type { Principal } from '../auth/principal.ts';
import { createProjectSchema } from '../domain/project.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';
import { createProject, requireProject } from './projects-service.ts';

/**
 * The training backend's legacy scenes as projects: a scene id names a project of its caller. The project's id is
 * derived from the caller and the scene id, so that parallel first uploads to a new scene make one project (the
 * table's conditional write lets one create it; the others read it).
 */
export function sceneProjectId(owner: string, sceneId: string): string {
  const h = createHash('sha256').update(`scene\0${owner}\0${sceneId}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50; // a name-based UUID (version 5 layout)
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** The scene's project, made at its first use. */
export async function sceneProject(s: Services, sceneId: string, by: Principal): Promise<ProjectItem> {
  const id = sceneProjectId(by.subject, sceneId);
  const existing = await s.projects.get(id);
  if (existing) return requireProject(s, id, by);
  try {
    await createProject(
      s,
      createProjectSchema.parse({ name: sceneId, description: `scene ${sceneId} (training backend)` }),
      by,
      id,
    );
  } catch (error) {
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
  }
  return requireProject(s, id, by);
}

/** Finds the scene's project without making it. */
export const existingSceneProject = (s: Services, sceneId: string, by: Principal): Promise<ProjectItem> =>
  requireProject(s, sceneProjectId(by.subject, sceneId), by);
