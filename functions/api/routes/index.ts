import type { RouteDefinition } from '../http/route.ts';
import { apiKeyRoutes } from './api-keys.ts';
import { compatibilityRoutes } from './compatibility.ts';
import { flaskRoutes } from './compat-flask.ts';
import { trainingBackendRoutes } from './compat-training-backend.ts';
import { lookoutRoutes } from './compat-lookout.ts';
import { lookoutDatasetRoutes } from './lookout-datasets.ts';
import { datasetRoutes } from './datasets.ts';
import { detectionRoutes } from './detection.ts';
import { metaRoutes } from './meta.ts';
import { operationsRoutes } from './operations.ts';
import { projectRoutes } from './projects.ts';
import { trainingRoutes } from './training.ts';
import { webhookRoutes } from './webhooks.ts';

/** Every route of the API, in the order the OpenAPI document lists them. */
export const routes: RouteDefinition[] = [
  ...projectRoutes,
  ...datasetRoutes,
  ...trainingRoutes,
  ...detectionRoutes,
  ...webhookRoutes,
  ...compatibilityRoutes,
  ...flaskRoutes,
  ...trainingBackendRoutes,
  ...lookoutRoutes,
  ...lookoutDatasetRoutes,
  ...apiKeyRoutes,
  ...operationsRoutes,
  ...metaRoutes(() => routes),
] as RouteDefinition[];
