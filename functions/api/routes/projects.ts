import { z } from 'zod';
import { createProjectSchema, projectSchema, updateProjectSchema } from '../../service/domain/project.ts';
import {
  createProject,
  deleteProject,
  listProjects,
  publicProject,
  requireProject,
  updateProject,
} from '../../service/projects/projects-service.ts';
import { defineRoute } from '../http/route.ts';
import { page, pageQuery, projectParams } from './common.ts';

const tags = ['Projects'];

export const projectRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/projects',
    operationId: 'createProject',
    summary: 'Create a project',
    description: 'The answer includes the webhook signing secret, shown only here.',
    tags,
    body: { json: createProjectSchema },
    success: { status: 201, description: 'Created', schema: projectSchema.extend({ webhookSecret: z.string() }) },
    errors: [403],
    handle: async ({ body, principal }, s) => ({ status: 201, body: await createProject(s, body, principal) }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects',
    operationId: 'listProjects',
    summary: 'List the projects the caller may see, newest first',
    tags,
    query: pageQuery,
    success: { status: 200, description: 'A page of projects', schema: page(projectSchema, 'ProjectPage') },
    handle: async ({ query, principal }, s) => ({
      status: 200,
      body: await listProjects(s, principal, query.limit, query.cursor),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/projects/{projectId}',
    operationId: 'getProject',
    summary: 'Get a project',
    tags,
    params: projectParams,
    success: { status: 200, description: 'The project', schema: projectSchema },
    errors: [404],
    handle: async ({ params }, s) => ({ status: 200, body: publicProject(await requireProject(s, params.projectId)) }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/api/v1/projects/{projectId}',
    operationId: 'updateProject',
    summary: 'Change a project: name, description, severity bands, threshold, webhook URL (null removes it)',
    tags,
    params: projectParams,
    body: { json: updateProjectSchema },
    success: { status: 200, description: 'The project after the change', schema: projectSchema },
    errors: [404],
    handle: async ({ params, body }, s) => ({ status: 200, body: await updateProject(s, params.projectId, body) }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/v1/projects/{projectId}',
    operationId: 'deleteProject',
    summary: 'Delete a project with all its images, models, jobs and results',
    description: 'The caller repeats the project name in `confirm`.',
    tags,
    params: projectParams,
    query: z.object({ confirm: z.string().min(1).meta({ description: "The project's name, exactly" }) }),
    success: {
      status: 200,
      description: 'Deleted',
      schema: z.object({ deletedObjects: z.number().int(), deletedItems: z.number().int() }),
    },
    errors: [404],
    handle: async ({ params, query }, s) => ({
      status: 200,
      body: await deleteProject(s, params.projectId, query.confirm),
    }),
  }),
];
