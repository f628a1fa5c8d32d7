import { FaultlineError, type FaultlineErrorCode } from '../engine/errors.ts';

/**
 * Errors of the service layer, each with the HTTP status a handler answers with and a stable code. Anything else
 * that escapes a handler is a 500 without details. This module is the one owner of "is this the caller's fault?"
 * (errorStatus, isCallersFault) and "can retrying help?" (isPermanent), for the API, the worker and the
 * compatibility routes alike.
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
  | 'INVALID_IMAGE'
  | 'WRONG_PROJECT_KIND'
  | 'SERVICE_UNAVAILABLE'
  | 'NOT_IMPLEMENTED';

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
  WRONG_PROJECT_KIND: 409,
  SERVICE_UNAVAILABLE: 503,
  NOT_IMPLEMENTED: 501,
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

export const projectNotFound = (projectId: string) =>
  new ServiceError('PROJECT_NOT_FOUND', `no project ${projectId}`, { projectId });

/**
 * The engine's errors as HTTP: an unusable image or option, or a model not there, is the caller's (4xx); a damaged
 * artifact or backbone, or a dataset folder the service itself laid out, is ours (500, said without details).
 */
const ENGINE_STATUS: Record<FaultlineErrorCode, number> = {
  EMPTY_IMAGE: 400,
  UNSUPPORTED_IMAGE: 415,
  CORRUPT_IMAGE: 422,
  IMAGE_TOO_LARGE: 413,
  IMAGE_TOO_SMALL: 422,
  INVALID_OPTION: 400,
  ARTIFACT_NOT_FOUND: 409,
  ARTIFACT_CORRUPT: 500,
  ARTIFACT_INCOMPATIBLE: 500,
  BACKBONE_NOT_FOUND: 500,
  BACKBONE_DIGEST_MISMATCH: 500,
  BACKBONE_TENSOR_NOT_FOUND: 500,
  BACKBONE_MANIFEST_INVALID: 500,
  BACKBONE_DOWNLOAD_FAILED: 500,
  DATASET_INVALID: 500,
  MODEL_NOT_ONNX: 415,
  MODEL_FORMAT_UNSUPPORTED: 415,
  MODEL_INVALID: 422,
  MODEL_SPEC_INVALID: 400,
  MODEL_SPEC_MISMATCH: 422,
  ARCHIVE_INVALID: 422,
  ARCHIVE_TOO_LARGE: 413,
  ARCHIVE_UNSAFE: 422,
};

/** Engine failures another attempt may not meet (a download that failed); the same inputs meet every other one again. */
const TRANSIENT_ENGINE_ERRORS: ReadonlySet<FaultlineErrorCode> = new Set(['BACKBONE_DOWNLOAD_FAILED']);

/** The HTTP status an error of the service or the engine stands for; 500 for anything else. */
export function errorStatus(error: unknown): number {
  if (error instanceof ServiceError) return error.status;
  if (error instanceof FaultlineError) return ENGINE_STATUS[error.code];
  return 500;
}

/** The caller's fault (a 4xx): what they sent or asked for cannot work, and sending it again will not help. */
export const isCallersFault = (error: unknown): boolean => errorStatus(error) < 500;

/** Retrying the same work cannot help: the caller's fault, or an engine failure the same inputs meet again. */
export function isPermanent(error: unknown): boolean {
  if (error instanceof FaultlineError) return !TRANSIENT_ENGINE_ERRORS.has(error.code);
  return isCallersFault(error);
}
