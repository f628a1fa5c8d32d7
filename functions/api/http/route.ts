import type { z } from 'zod';
import type { CompatGroup } from '../../auth/open-access.ts';
import type { Principal } from '../../service/auth/principal.ts';
import type { ProjectItem } from '../../service/store/project-repository.ts';
import type { Services } from '../../service/services.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface UploadedPart {
  field: string;
  filename: string;
  mimetype: string;
  content: Buffer;
}

/** A multipart body: its text fields (validated by `fields`) and file fields with their limits. */
export interface MultipartBody<F extends z.ZodObject> {
  multipart: {
    fields: F;
    files: { name: string; description: string; required: boolean; multiple: boolean }[];
  };
}

export interface JsonBody<B extends z.ZodType> {
  json: B;
  /** Also takes `text/csv`: the text turned into what `json` validates (a parse error is the caller's, with its line). */
  csv?: (text: string) => unknown;
}

/** The body's bytes as they came (an older contract that posts an image as the body), of one of these types. */
export interface RawBody {
  raw: { contentTypes: string[]; description: string };
}

type Infer<T> = T extends z.ZodType ? z.infer<T> : undefined;

export interface RouteInput<P, Q, B> {
  params: Infer<P>;
  query: Infer<Q>;
  body: B extends JsonBody<infer J>
    ? z.infer<J>
    : B extends MultipartBody<infer F>
      ? z.infer<F>
      : B extends RawBody
        ? { bytes: Buffer; contentType: string }
        : undefined;
  files: Record<string, UploadedPart[]>;
  headers: Record<string, string | undefined>;
  requestId: string;
  /** Who is calling (from the authorizer); a route with a projectId has already been checked against it. */
  principal: Principal;
  /** The project of a route with a projectId, when the check read it (not for an administrator): no need to read it again. */
  project?: ProjectItem;
}

export interface RouteResult {
  status: number;
  /** JSON, or bytes sent as they are (an older contract's PNG answer; set the content type in `headers`). */
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ErrorShape {
  schema: z.ZodType;
  /** The body and headers, and the status where the contract has its own for that error. */
  render(e: ErrorFacts): { body: unknown; headers?: Record<string, string>; status?: number };
}

/** An error as the API would answer it, for a contract that shapes its errors its own way. */
export interface ErrorFacts {
  status: number;
  code: string;
  message: string;
  requestId: string;
}

/**
 * One API operation: its HTTP shape (validated by zod schemas, from which the OpenAPI document is made too) and the
 * thin function that calls the service layer.
 */
export interface RouteDefinition<
  P extends z.ZodObject | undefined = any,
  Q extends z.ZodObject | undefined = any,
  B extends JsonBody<z.ZodType> | MultipartBody<z.ZodObject> | RawBody | undefined = any,
> {
  method: HttpMethod;
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  params?: P;
  query?: Q;
  body?: B;
  /** A JSON answer (schema), or bytes of `contentType` (a route's handler then answers a Buffer). */
  success: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Error statuses worth documenting besides 400 and 500. */
  errors?: number[];
  /** Open to callers without credentials (health, the OpenAPI document). */
  public?: boolean;
  /** The most bytes one file part may hold (default FAULTLINE_MAX_IMAGE_BYTES); past it the request is a 413. */
  maxFileBytes?: (config: Services['config']) => number;
  /** Only for administrators (e.g. redriving dead letters). */
  admin?: boolean;
  /** The older contract this route belongs to: a group an operator may open to callers without a key. */
  compatGroup?: CompatGroup;
  /** That contract's own error body (its schema, for the OpenAPI document) and headers, in place of `{"error": ...}`. */
  errorShape?: ErrorShape;
  handle(input: RouteInput<P, Q, B>, s: Services): Promise<RouteResult>;
}

export const defineRoute = <
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends JsonBody<z.ZodType> | MultipartBody<z.ZodObject> | RawBody | undefined = undefined,
>(
  route: RouteDefinition<P, Q, B>,
): RouteDefinition<P, Q, B> => route;

export const routeKey = (r: Pick<RouteDefinition, 'method' | 'path'>): string => `${r.method} ${r.path}`;
