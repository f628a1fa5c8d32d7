import { createHash } from 'node:crypto';
import type { z } from 'zod';
import type { OnnxModelSummary } from '../../engine/onnx/inspect-model.ts';
import type { ProjectKind } from '../domain/project.ts';
import {
  type StoredUploadedModel,
  UPLOADED_MODEL_SPECS,
  type UploadedModelKind,
  type UploadedModelVersion,
} from '../domain/uploaded-model.ts';
import { projectNotFound, ServiceError } from '../errors.ts';
import { KINDS } from '../kinds/index.ts';
import type { UploadedModelSupport } from './uploaded-model-support.ts';
import { modelPrefix } from '../object-keys.ts';
import { commitToProject, requireProject } from '../projects/projects-service.ts';
import type { Services } from '../services.ts';
import type { ProjectItem } from '../store/project-repository.ts';

/** The files of an uploaded model version under its prefix. */
export const UPLOADED_MODEL_FILES = { model: 'model.onnx', spec: 'spec.json' } as const;

const present = (model: StoredUploadedModel, active: number | null): UploadedModelVersion =>
  ({ ...model, active: model.version === active }) as UploadedModelVersion;

/** The project, when it is of a kind whose models are uploaded ONNX files; else a 409 saying what the kind does. */
export async function requireUploadKind(
  s: Services,
  projectId: string,
): Promise<ProjectItem & { kind: UploadedModelKind }> {
  const project = await requireProject(s, projectId);
  if (!KINDS[project.kind].uploadedModels)
    throw new ServiceError(
      'WRONG_PROJECT_KIND',
      `project ${projectId} is of kind ${project.kind}, which trains its own models (POST /api/v1/projects/${projectId}/train); ONNX uploads are for classification and object-detection projects`,
      { projectId, kind: project.kind },
    );
  return project as ProjectItem & { kind: UploadedModelKind };
}

/** A project of this kind, or a 409 naming the kind it is (the kind decides which routes apply). */
export async function requireKind(s: Services, projectId: string, kind: ProjectKind): Promise<ProjectItem> {
  const project = await requireProject(s, projectId);
  if (project.kind !== kind)
    throw new ServiceError(
      'WRONG_PROJECT_KIND',
      `project ${projectId} is of kind ${project.kind}; this route is for ${kind} projects`,
      { projectId, kind: project.kind, expected: kind },
    );
  return project;
}

/** The spec file: JSON, valid for the project's kind; each problem named by its path. */
export function parseSpec<K extends UploadedModelKind>(
  kind: K,
  specBytes: Uint8Array,
): z.infer<(typeof UPLOADED_MODEL_SPECS)[K]> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(specBytes).toString('utf8'));
  } catch (error) {
    throw new ServiceError('VALIDATION_FAILED', `the spec is not JSON: ${(error as Error).message}`);
  }
  return parseSpecJson(kind, json);
}

/** A spec already parsed from JSON (a JSON request's field), valid for the project's kind. */
export function parseSpecJson<K extends UploadedModelKind>(
  kind: K,
  json: unknown,
): z.infer<(typeof UPLOADED_MODEL_SPECS)[K]> {
  const parsed = UPLOADED_MODEL_SPECS[kind].safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
    throw new ServiceError(
      'VALIDATION_FAILED',
      `the spec is not valid for a ${kind} model: ${issues.map((i) => `${i.path || '(spec)'}: ${i.message}`).join('; ')}`,
      { issues },
    );
  }
  // The schema was picked by `kind`; TypeScript cannot follow that through the union of schemas.
  return parsed.data as z.infer<(typeof UPLOADED_MODEL_SPECS)[K]>;
}

export interface NewModelVersion {
  bytes: Uint8Array;
  spec: UploadedModelVersion['spec'];
  summary: OnnxModelSummary;
  source: StoredUploadedModel['source'];
  jobId: string | null;
  evaluation: Extract<StoredUploadedModel, { kind: 'classification' }>['evaluation'];
  /** The number to store under (a training job takes it when it starts); a new one when absent. */
  version?: number;
}

/**
 * Stores a checked ONNX model and its spec as the project's next model version and makes it the active one (as a
 * newly trained PatchCore model is); announced as Model Activated.
 */
export async function storeModelVersion(
  s: Services,
  project: ProjectItem & { kind: UploadedModelKind },
  m: NewModelVersion,
): Promise<UploadedModelVersion> {
  const version = m.version ?? (await s.projects.nextModelVersion(project.id));
  if (version === undefined) throw projectNotFound(project.id);
  const prefix = modelPrefix(project.id, version);
  await s.objects.put(`${prefix}${UPLOADED_MODEL_FILES.model}`, m.bytes, 'application/octet-stream');
  await s.objects.put(
    `${prefix}${UPLOADED_MODEL_FILES.spec}`,
    `${JSON.stringify(m.spec, null, 2)}\n`,
    'application/json',
  );
  const stored = await s.uploadedModels.create({
    projectId: project.id,
    version,
    label: `v${version}`,
    type: 'onnx',
    kind: project.kind,
    source: m.source,
    spec: m.spec,
    evaluation: m.evaluation,
    file: {
      bytes: m.bytes.byteLength,
      sha256: createHash('sha256').update(m.bytes).digest('hex'),
      opset: m.summary.opset,
      irVersion: m.summary.irVersion,
      producer: m.summary.producer,
      inputs: m.summary.inputs,
      outputs: m.summary.outputs,
    },
    jobId: m.jobId,
    artifactPrefix: prefix,
    createdAt: new Date().toISOString(),
  } as StoredUploadedModel);
  const updated =
    (await s.projects.update(project.id, { activeModelVersion: stored.version, latestModelVersion: stored.version })) ??
    (await commitToProject(s, project.id));
  await s.events.publish(
    {
      type: 'Model Activated',
      projectId: project.id,
      detail: { version: stored.version, label: stored.label, source: stored.source, model_type: 'onnx' },
    },
    updated,
  );
  return present(stored, stored.version);
}

/**
 * An upload: the spec checked against the project's kind, the file against the spec by running it once (the engine's
 * errors say what does not match: 415 for a file that is not ONNX or is TFLite, 422 naming the head and the shapes),
 * then stored as the next model version and activated. No fallback: nothing is stored unless every check passed.
 */
export async function uploadModel(
  s: Services,
  projectId: string,
  modelBytes: Uint8Array,
  specBytes: Uint8Array,
): Promise<UploadedModelVersion> {
  const project = await requireUploadKind(s, projectId);
  const max = s.config.FAULTLINE_MAX_MODEL_BYTES;
  if (modelBytes.byteLength > max)
    throw new ServiceError('PAYLOAD_TOO_LARGE', `the model is ${modelBytes.byteLength} bytes; at most ${max}`, { max });
  const support = KINDS[project.kind].uploadedModels as UploadedModelSupport;
  const spec = parseSpec(project.kind, specBytes);
  const summary = await support.check(modelBytes, spec);
  return storeModelVersion(s, project, {
    bytes: modelBytes,
    spec,
    summary,
    source: 'upload',
    jobId: null,
    evaluation: null,
  });
}

export async function listUploadedModels(s: Services, projectId: string): Promise<UploadedModelVersion[]> {
  const project = await requireUploadKind(s, projectId);
  return (await s.uploadedModels.list(projectId)).map((m) => present(m, project.activeModelVersion));
}

export async function getUploadedModel(s: Services, projectId: string, version: number): Promise<UploadedModelVersion> {
  const project = await requireUploadKind(s, projectId);
  const model = await s.uploadedModels.get(projectId, version);
  if (!model)
    throw new ServiceError('MODEL_NOT_FOUND', `project ${projectId} has no model version ${version}`, {
      projectId,
      version,
    });
  return present(model, project.activeModelVersion);
}

export async function activateUploadedModel(
  s: Services,
  projectId: string,
  version: number,
): Promise<UploadedModelVersion> {
  const model = await getUploadedModel(s, projectId, version);
  const project = await s.projects.update(projectId, { activeModelVersion: version });
  await s.events.publish(
    { type: 'Model Activated', projectId, detail: { version, label: model.label, model_type: 'onnx' } },
    project,
  );
  return { ...model, active: true };
}

/** The active version of a project whose models are uploaded, or NO_ACTIVE_MODEL saying how to make one. */
export async function activeUploadedModel(s: Services, project: ProjectItem): Promise<StoredUploadedModel> {
  if (project.activeModelVersion === null)
    throw new ServiceError(
      'NO_ACTIVE_MODEL',
      `project ${project.id} has no model yet: upload an ONNX model with its spec (POST /api/v1/projects/${project.id}/models/upload) or train one (faultline classify train)`,
      { projectId: project.id },
    );
  const model = await s.uploadedModels.get(project.id, project.activeModelVersion);
  if (!model)
    throw new ServiceError(
      'MODEL_UNUSABLE',
      `model version ${project.activeModelVersion} of project ${project.id} is not an uploaded model; activate another version`,
      { projectId: project.id, version: project.activeModelVersion },
    );
  return model;
}
