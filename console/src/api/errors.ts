/** An error the API answered with ({"error": {code, message}}), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The API's error body turned into an ApiError, keeping its message: people read it. */
export function toApiError(status: number, body: unknown): ApiError {
  const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)
    ?.error;
  if (error?.message) return new ApiError(error.message, status, error.code ?? 'ERROR', error.details);
  return new ApiError(`the API answered HTTP ${status}`, status, 'HTTP_ERROR');
}

export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));
