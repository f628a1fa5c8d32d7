/**
 * Errors of the service layer, each with the HTTP status a handler answers with and a stable code. Anything else
 * that escapes a handler is a 500 without details.
 */
export type ServiceErrorCode =
  | 'VALIDATION_FAILED'
  | 'INVALID_CURSOR'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'PROJECT_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'NO_ACTIVE_MODEL'
  | 'MODEL_UNUSABLE'
  | 'NAME_MISMATCH'
  | 'CONFLICT'
  | 'TRAINING_IN_PROGRESS'
  | 'NOT_ENOUGH_IMAGES'
  | 'PAYLOAD_TOO_LARGE'
  | 'TOO_MANY_FILES'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'INVALID_IMAGE';

const STATUS: Record<ServiceErrorCode, number> = {
  VALIDATION_FAILED: 400,
  INVALID_CURSOR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  PROJECT_NOT_FOUND: 404,
  MODEL_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  NO_ACTIVE_MODEL: 409,
  MODEL_UNUSABLE: 409,
  NAME_MISMATCH: 400,
  CONFLICT: 409,
  TRAINING_IN_PROGRESS: 409,
  NOT_ENOUGH_IMAGES: 409,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_FILES: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_IMAGE: 422,
};

export class ServiceError extends Error {
  readonly status: number;

  constructor(
    readonly code: ServiceErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ServiceError';
    this.status = STATUS[code];
  }
}

export const projectNotFound = (projectId: string) => new ServiceError('PROJECT_NOT_FOUND', `no project ${projectId}`, { projectId });
