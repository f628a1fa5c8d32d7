import { z } from 'zod';
import { FaultlineError } from '../../engine/errors.ts';
import { errorStatus, ServiceError } from '../../service/errors.ts';

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ example: 'PROJECT_NOT_FOUND' }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      requestId: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** A request that failed validation, with every problem listed. */
export class RequestValidationError extends Error {
  constructor(
    readonly where: 'path' | 'query' | 'body' | 'headers',
    readonly issues: { path: string; message: string }[],
  ) {
    super(`invalid ${where}: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
  }
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const zodIssues = (error: z.ZodError): { path: string; message: string }[] =>
  error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));

/** Maps any error to a status and the JSON error body; unknown errors become a 500 that says nothing internal. */
export function toErrorResponse(
  error: unknown,
  requestId: string,
): { status: number; body: z.infer<typeof errorResponseSchema>; internal: boolean } {
  const body = (status: number, code: string, message: string, details?: Record<string, unknown>) => ({
    status,
    body: { error: { code, message, ...(details ? { details } : {}), requestId } },
    internal: status >= 500,
  });
  if (error instanceof RequestValidationError)
    return body(400, 'VALIDATION_FAILED', error.message, { where: error.where, issues: error.issues });
  if (error instanceof HttpError) return body(error.status, error.code, error.message, error.details);
  if (error instanceof ServiceError) return body(error.status, error.code, error.message, error.details);
  if (error instanceof FaultlineError) {
    const status = errorStatus(error);
    return status >= 500
      ? body(500, 'INTERNAL_ERROR', 'internal error')
      : body(status, error.code, error.message, error.details);
  }
  // middy's own errors (e.g. a malformed multipart body) carry a statusCode
  const http = error as { statusCode?: number; message?: string; expose?: boolean };
  if (typeof http?.statusCode === 'number' && http.statusCode < 500)
    return body(
      http.statusCode,
      http.statusCode === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'BAD_REQUEST',
      http.message ?? 'bad request',
    );
  return body(500, 'INTERNAL_ERROR', 'internal error');
}
