import { z } from 'zod';
import { colourMask } from '../../engine/visualize/colour-mask.ts';
import type { Principal } from '../../service/auth/principal.ts';
import { anomalyTypes, BACKGROUND } from '../../service/detection/anomaly-types.ts';
import { detectImage } from '../../service/detection/detection-service.ts';
import type { ModelVersion } from '../../service/domain/model-version.ts';
import { getModel, listModels } from '../../service/models/models-service.ts';
import { projectByIdOrName } from '../../service/projects/find-project.ts';
import type { Services } from '../../service/services.ts';
import type { ProjectItem } from '../../service/store/project-repository.ts';
import { defineRoute, type ErrorShape } from '../http/route.ts';

/**
 * Amazon Lookout for Vision's runtime API, in its own protocol (REST-JSON, API version 2020-11-20), so that an AWS
 * SDK client pointed at Faultline (endpoint override) works as it did: DetectAnomalies, DescribeModel, ListModels.
 * ProjectName is a project's id or its name; ModelVersion a model version number.
 */
const tags = ['Compatibility: Lookout for Vision'];
const compatGroup = 'lookout' as const;

/** Its exceptions, by the status Faultline would answer: the SDK reads the name from x-amzn-ErrorType. */
const EXCEPTIONS: Record<number, [string, number]> = {
  400: ['ValidationException', 400],
  401: ['AccessDeniedException', 403],
  403: ['AccessDeniedException', 403],
  404: ['ResourceNotFoundException', 404],
  409: ['ConflictException', 409],
  413: ['ValidationException', 400],
  415: ['ValidationException', 400],
  422: ['ValidationException', 400],
  429: ['ThrottlingException', 429],
};
const errorShape: ErrorShape = {
  schema: z.object({ message: z.string(), __type: z.string() }).meta({ id: 'LookoutError' }),
  render: (e) => {
    const [name, status] = EXCEPTIONS[e.status] ?? ['InternalServerException', 500];
    return { status, headers: { 'x-amzn-errortype': name }, body: { message: e.message, __type: name } };
  },
};

const projectParams = z.object({ ProjectName: z.string().min(1).max(255) });
const modelParams = projectParams.extend({ ModelVersion: z.string().regex(/^\d{1,9}$/, 'a model version number') });

const performanceSchema = z.object({
  F1Score: z.number().optional(),
  Recall: z.number().optional(),
  Precision: z.number().optional(),
});
const modelSchema = z.object({
  CreationTimestamp: z.number(),
  ModelVersion: z.string(),
  ModelArn: z.string(),
  Description: z.string(),
  Status: z.enum(['TRAINED', 'HOSTED']),
  StatusMessage: z.string(),
  Performance: performanceSchema,
});

const arn = (projectId: string, version: number) => `arn:faultline:lookoutvision:::model/${projectId}/${version}`;

/** What a model says of itself in its shape; the active model is the one "hosted" (it answers DetectAnomalies). */
function describe(project: ProjectItem, m: ModelVersion) {
  const hosted = project.activeModelVersion === m.version;
  return {
    CreationTimestamp: Date.parse(m.createdAt) / 1000,
    ModelVersion: String(m.version),
    ModelArn: arn(project.id, m.version),
    Description: `${m.label}: PatchCore (${m.backbone}), ${m.trainImages} training images`,
    Status: hosted ? ('HOSTED' as const) : ('TRAINED' as const),
    StatusMessage: m.quality?.reason ?? (hosted ? 'active model' : 'trained'),
    // Only what was measured: on the project's evaluation set (an imported dataset) when it has one, else F1 on the
    // calibration images (and labelled defects when there were some).
    Performance: {
      ...(m.metrics.f1 === undefined ? {} : { F1Score: m.metrics.f1 }),
      ...(m.metrics.precision === undefined ? {} : { Precision: m.metrics.precision }),
      ...(m.metrics.recall === undefined ? {} : { Recall: m.metrics.recall }),
    },
  };
}

async function modelOf(s: Services, params: z.infer<typeof modelParams>, by: Principal) {
  const project = await projectByIdOrName(s, params.ProjectName, by);
  return { project, model: await getModel(s, project.id, Number(params.ModelVersion)) };
}

export const lookoutRoutes = [
  defineRoute({
    method: 'POST',
    path: '/2020-11-20/projects/{ProjectName}/models/{ModelVersion}/detect',
    operationId: 'lookoutDetectAnomalies',
    summary: 'DetectAnomalies: the image as the body (Content-Type image/jpeg or image/png)',
    tags,
    compatGroup,
    errorShape,
    params: modelParams,
    body: { raw: { contentTypes: ['image/jpeg', 'image/png'], description: 'The image' } },
    success: {
      status: 200,
      description: 'DetectAnomalyResult',
      schema: z.object({
        DetectAnomalyResult: z.object({
          Source: z.object({ Type: z.literal('direct') }),
          IsAnomalous: z.boolean(),
          Confidence: z.number(),
          Anomalies: z.array(
            z.object({
              Name: z.string(),
              PixelAnomaly: z.object({ TotalPercentageArea: z.number(), Color: z.string() }),
            }),
          ),
          AnomalyMask: z.string().meta({ description: 'PNG, base64: each anomaly type in its colour' }),
        }),
      }),
    },
    errors: [404, 409],
    handle: async ({ params, body, principal }, s) => {
      const { project, model } = await modelOf(s, params, principal);
      const record = await detectImage(s, project.id, body.bytes, 'lookout-image', {
        visualizations: true,
        modelVersion: model.version,
      });
      const [type] = anomalyTypes(project);
      const maskPng = record.pngs?.mask; // as encoded for this detection, not read back from the bucket
      const mask = maskPng
        ? await colourMask(maskPng, { anomaly: type!.color, background: BACKGROUND.color })
        : undefined;
      const share = mask?.anomalousShare ?? 0;
      const r = record.result;
      return {
        status: 200,
        body: {
          DetectAnomalyResult: {
            Source: { Type: 'direct' },
            IsAnomalous: r.is_anomalous,
            // The normalised score is 0.5 at the threshold: how far it is on the side of the verdict.
            Confidence: Number((r.is_anomalous ? r.anomaly_score : 1 - r.anomaly_score).toFixed(4)),
            Anomalies: [
              { Name: BACKGROUND.name, PixelAnomaly: { TotalPercentageArea: 1 - share, Color: BACKGROUND.color } },
              ...(share > 0
                ? [{ Name: type!.name, PixelAnomaly: { TotalPercentageArea: share, Color: type!.color } }]
                : []),
            ],
            AnomalyMask: mask?.png.toString('base64') ?? '',
          },
        },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/2020-11-20/projects/{ProjectName}/models/{ModelVersion}',
    operationId: 'lookoutDescribeModel',
    summary: 'DescribeModel',
    tags,
    compatGroup,
    errorShape,
    params: modelParams,
    success: { status: 200, description: 'ModelDescription', schema: z.object({ ModelDescription: modelSchema }) },
    errors: [404],
    handle: async ({ params, principal }, s) => {
      const { project, model } = await modelOf(s, params, principal);
      return { status: 200, body: { ModelDescription: describe(project, model) } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/2020-11-20/projects/{ProjectName}/models',
    operationId: 'lookoutListModels',
    summary: 'ListModels',
    tags,
    compatGroup,
    errorShape,
    params: projectParams,
    success: {
      status: 200,
      description: 'Models',
      schema: z.object({ Models: z.array(modelSchema), NextToken: z.string().nullable() }),
    },
    errors: [404],
    handle: async ({ params, principal }, s) => {
      const project = await projectByIdOrName(s, params.ProjectName, principal);
      const models = await listModels(s, project.id);
      return { status: 200, body: { Models: models.map((m) => describe(project, m)), NextToken: null } };
    },
  }),
];
