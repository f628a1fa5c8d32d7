import { z } from 'zod';
import { loadClassifier } from '../../service/classification/classifier-cache.ts';
import { classifyImage } from '../../service/classification/classification-service.ts';
import type { ClassificationFields } from '../../service/domain/classification-record.ts';
import { ServiceError } from '../../service/errors.ts';
import { authorizeProject } from '../../service/projects/projects-service.ts';
import type { Services } from '../../service/services.ts';
import type { Principal } from '../../service/auth/principal.ts';
import { defineRoute } from '../http/route.ts';

/**
 * The older image-analysis service's two routes, answered by the default classification project
 * (FAULTLINE_DEFAULT_CLASSIFIER_PROJECT) in that service's shape: one field per head named by the spec (a label; a
 * list for a sigmoid head), confidence_scores per head, model_version and model_type.
 */
const tags = ['Compatibility'];

async function defaultClassifierProject(s: Services, by: Principal): Promise<string> {
  const id = s.config.FAULTLINE_DEFAULT_CLASSIFIER_PROJECT;
  if (!id)
    throw new ServiceError(
      'NOT_FOUND',
      'no default classifier: set FAULTLINE_DEFAULT_CLASSIFIER_PROJECT to the classification project /api/v1/analyze acts on',
    );
  await authorizeProject(s, id, by);
  return id;
}

/** A classification in the older service's field names. */
export function analyzeAnswer(result: ClassificationFields, resultId: string): Record<string, unknown> {
  const answer: Record<string, unknown> = {};
  const confidence: Record<string, unknown> = {};
  const all: Record<string, Record<string, number>> = {};
  for (const [name, head] of Object.entries(result.heads)) {
    if (head.activation === 'softmax') {
      answer[name] = head.label;
      confidence[name] = head.confidence;
    } else {
      answer[name] = head.labels;
      confidence[name] = Object.fromEntries(head.labels.map((l) => [l, head.scores[l]]));
    }
    all[name] = head.scores;
  }
  return {
    ...answer,
    confidence_scores: confidence,
    all_scores: all,
    model_version: result.model_version,
    model_type: result.model_type,
    processing_time: result.processing_time,
    result_id: resultId,
  };
}

export const analyzeCompatibilityRoutes = [
  defineRoute({
    method: 'POST',
    path: '/api/v1/analyze/image',
    operationId: 'analyzeImage',
    summary: 'Classify one image with the default classifier (multipart field "file"), in the older service’s shape',
    description:
      'One field per head of the active model’s spec: a softmax head’s label (e.g. skin_type: "oily"), a sigmoid head’s labels as a list (e.g. conditions_detected: ["acne"]); confidence_scores per head (a number, or label -> probability for a list); all_scores; model_version; model_type "onnx"; processing_time in seconds.',
    tags,
    body: {
      multipart: {
        fields: z.object({}),
        files: [{ name: 'file', description: 'The image', required: true, multiple: false }],
      },
    },
    success: {
      status: 200,
      description: 'The analysis',
      schema: z
        .looseObject({
          confidence_scores: z.record(z.string(), z.union([z.number(), z.record(z.string(), z.number())])),
          all_scores: z.record(z.string(), z.record(z.string(), z.number())),
          model_version: z.string(),
          model_type: z.literal('onnx'),
          processing_time: z.number(),
          result_id: z.string(),
        })
        .meta({ id: 'Analysis', description: 'Plus one field per head, named by the spec' }),
    },
    errors: [404, 409, 413, 415, 422],
    handle: async ({ files, principal }, s) => {
      const projectId = await defaultClassifierProject(s, principal);
      const record = await classifyImage(s, projectId, files.file[0].content, files.file[0].filename);
      return { status: 200, body: analyzeAnswer(record.result, record.id) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/v1/analyze/health',
    operationId: 'analyzeHealth',
    summary: 'Whether the default classifier can answer: 200 healthy with its version and heads, else 503',
    tags,
    success: {
      status: 200,
      description: 'Health',
      schema: z
        .object({
          status: z.enum(['healthy', 'unhealthy']),
          model_loaded: z.boolean().meta({ description: 'The active model is in this process’s memory' }),
          model_version: z.string().nullable(),
          model_type: z.literal('onnx'),
          heads: z.array(z.object({ name: z.string(), activation: z.string(), classes: z.array(z.string()) })),
          reason: z.string().optional(),
        })
        .meta({ id: 'AnalyzeHealth' }),
    },
    errors: [404, 503],
    handle: async ({ principal }, s) => {
      const unhealthy = (reason: string) => ({
        status: 503,
        body: { status: 'unhealthy', model_loaded: false, model_version: null, model_type: 'onnx', heads: [], reason },
      });
      const id = s.config.FAULTLINE_DEFAULT_CLASSIFIER_PROJECT;
      if (!id) return unhealthy('no default classifier: FAULTLINE_DEFAULT_CLASSIFIER_PROJECT is not set');
      // A caller who may not see the project learns nothing of it (404), as on every project route.
      await authorizeProject(s, id, principal);
      const project = await s.projects.get(id);
      if (!project || project.kind !== 'classification')
        return unhealthy('the default classifier project does not exist or is not a classification project');
      if (project.activeModelVersion === null) return unhealthy('the default classifier project has no model yet');
      const model = await s.uploadedModels.get(id, project.activeModelVersion);
      if (!model || model.kind !== 'classification')
        return unhealthy('the active model version is not an ONNX classifier');
      // Healthy means ready to answer: load the model now (once per process) rather than report false until first use.
      try {
        await loadClassifier(s, model);
      } catch (error) {
        return unhealthy(
          `the active model cannot be loaded: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      return {
        status: 200,
        body: {
          status: 'healthy',
          model_loaded: true,
          model_version: model.label,
          model_type: 'onnx',
          heads: model.spec.heads.map((h) => ({ name: h.name, activation: h.activation, classes: h.classes })),
        },
      };
    },
  }),
];
