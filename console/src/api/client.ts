import createClient, { type Client } from 'openapi-fetch';
import { ApiError, toApiError } from './errors.ts';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Project = Schemas['Project'];
export type ModelVersion = Schemas['ModelVersion'];
export type Job = Schemas['Job'];
export type Result = Schemas['Result'];
export type Review = Schemas['Review'];
export type ReviewMetricsRow = Schemas['ReviewMetricsRow'];
export type Detection = Schemas['Detection'];
export type DatasetImage = Schemas['DatasetImage'];
export type SeverityBand = Project['severityBands'][number];
export type WebhookEvent = Project['webhookEvents'][number];

/** The event types in the API's order; the check below fails to compile when the API gains or loses one. */
export const WEBHOOK_EVENTS = [
  'Detection Completed',
  'Classification Completed',
  'Objects Detected',
  'Metric Anomaly',
  'Job Succeeded',
  'Job Failed',
  'Model Activated',
] as const satisfies readonly WebhookEvent[];
type Exhaustive<T extends never> = T;
export type WebhookEventsListed = Exhaustive<Exclude<WebhookEvent, (typeof WEBHOOK_EVENTS)[number]>>;

export interface ApiOptions {
  baseUrl: string;
  apiKey: () => string | undefined;
  /** A person's token from the issuer (auth/oidc.ts), sent instead of a key when there is one. */
  bearerToken?: () => string | undefined;
  /** Called on a 401: the key or token is missing, wrong, revoked or expired. */
  onUnauthorized: (message: string) => void;
}

let client: Client<paths> | undefined;

/** Sets up the one typed client (openapi-fetch over the generated OpenAPI types) the console calls the API with. */
export function configureApi(o: ApiOptions): void {
  client = createClient<paths>({ baseUrl: o.baseUrl });
  client.use({
    onRequest({ request }) {
      const token = o.bearerToken?.();
      const key = token ? undefined : o.apiKey();
      if (token) request.headers.set('authorization', `Bearer ${token}`);
      else if (key) request.headers.set('x-api-key', key);
      return request;
    },
    async onResponse({ response }) {
      if (response.status === 401) {
        const body = await response
          .clone()
          .json()
          .catch(() => undefined);
        o.onUnauthorized(toApiError(401, body).message);
      }
      return response;
    },
  });
}

export function api(): Client<paths> {
  if (!client) throw new Error('configureApi() was not called');
  return client;
}

/** The data of an openapi-fetch answer, or an ApiError with the API's message (network failures too). */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let answer: { data?: T; error?: unknown; response: Response };
  try {
    answer = await request;
  } catch (error) {
    throw new ApiError(`cannot reach the Faultline API (${(error as Error).message})`, 0, 'NETWORK_ERROR');
  }
  if (!answer.response.ok) throw toApiError(answer.response.status, answer.error);
  return answer.data as T;
}
