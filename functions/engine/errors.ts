/**
 * Typed errors of the engine. Every failure a caller can act on has a stable `code`, so that the CLI prints it and
 * the HTTP layer maps it to a 4xx without parsing messages.
 */
export type FaultlineErrorCode =
  | 'EMPTY_IMAGE'
  | 'UNSUPPORTED_IMAGE'
  | 'CORRUPT_IMAGE'
  | 'IMAGE_TOO_LARGE'
  | 'IMAGE_TOO_SMALL'
  | 'BACKBONE_NOT_FOUND'
  | 'BACKBONE_DIGEST_MISMATCH'
  | 'BACKBONE_TENSOR_NOT_FOUND'
  | 'BACKBONE_MANIFEST_INVALID'
  | 'BACKBONE_DOWNLOAD_FAILED'
  | 'ARTIFACT_NOT_FOUND'
  | 'ARTIFACT_CORRUPT'
  | 'ARTIFACT_INCOMPATIBLE'
  | 'DATASET_INVALID'
  | 'INVALID_OPTION'
  | 'MODEL_NOT_ONNX'
  | 'MODEL_FORMAT_UNSUPPORTED'
  | 'MODEL_INVALID'
  | 'MODEL_SPEC_INVALID'
  | 'MODEL_SPEC_MISMATCH'
  | 'ARCHIVE_INVALID'
  | 'ARCHIVE_TOO_LARGE'
  | 'ARCHIVE_UNSAFE';

export class FaultlineError extends Error {
  readonly code: FaultlineErrorCode;
  readonly details: Record<string, unknown>;

  constructor(
    code: FaultlineErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  toJSON(): { code: FaultlineErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** The bytes given as an image cannot be used: empty, not an image, damaged, too large or too small. */
export class InvalidImageError extends FaultlineError {}

/** The backbone network cannot be obtained or does not have what its manifest promises. */
export class BackboneError extends FaultlineError {}

/** A trained model artifact is missing, damaged, or was made for another backbone or format. */
export class ModelArtifactError extends FaultlineError {}

/** A training or evaluation folder does not have the expected layout or content. */
export class DatasetError extends FaultlineError {}

/** An uploaded model (ONNX file plus its spec) cannot be served: not ONNX, cannot run, an invalid spec, or a mismatch. */
export class UploadedModelError extends FaultlineError {}

/** An option given to the engine is out of range or inconsistent. */
export class InvalidOptionError extends FaultlineError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('INVALID_OPTION', message, details);
  }
}

/** An uploaded archive is not a readable ZIP, exceeds the limits, or holds unsafe entries (traversal, zip bomb). */
export class ArchiveError extends FaultlineError {}
