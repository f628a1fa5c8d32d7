import type { RouteDefinition } from '../http/route.ts';
import { analyzeCompatibilityRoutes } from './analyze-compatibility.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { classificationRoutes } from './classification.ts';
import { compatibilityRoutes } from './compatibility.ts';
import { flaskRoutes } from './compat-flask.ts';
import { trainingBackendRoutes } from './compat-training-backend.ts';
import { lookoutRoutes } from './compat-lookout.ts';
import { lookoutDatasetRoutes } from './lookout-datasets.ts';
import { datasetRoutes } from './datasets.ts';
import { detectionRoutes } from './detection.ts';
import { metaRoutes } from './meta.ts';
import { objectDetectionRoutes } from './object-detection.ts';
import { operationsRoutes } from './operations.ts';
import { projectRoutes } from './projects.ts';
import { reviewRoutes } from './reviews.ts';
import { sensorCompatibilityRoutes } from './sensors-compat.ts';
import { sensorRoutes } from './sensors.ts';
import { stagedModelRoutes } from './staged-models.ts';
import { trainingRoutes } from './training.ts';
import { webhookRoutes } from './webhooks.ts';

/** Every route of the API, in the order the OpenAPI document lists them. */
export const routes: RouteDefinition[] = [
  ...projectRoutes,
  ...datasetRoutes,
  ...trainingRoutes,
  ...detectionRoutes,
  ...classificationRoutes,
  ...reviewRoutes,
  ...objectDetectionRoutes,
  ...stagedModelRoutes,
  ...webhookRoutes,
  ...sensorRoutes,
  ...compatibilityRoutes,
  ...flaskRoutes,
  ...trainingBackendRoutes,
  ...lookoutRoutes,
  ...analyzeCompatibilityRoutes,
  ...sensorCompatibilityRoutes,
  ...lookoutDatasetRoutes,
  ...apiKeyRoutes,
  ...operationsRoutes,
  ...metaRoutes(() => routes),
] as RouteDefinition[];
