import { FaultlineError } from '../errors.ts';

/**
 * A series file or folder that cannot be used: a line that is not `timestamp,value`, a missing header, an empty
 * file. Carries the code callers already act on for bad input folders (DATASET_INVALID) and names the line.
 */
export class SeriesInputError extends FaultlineError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('DATASET_INVALID', message, details, options);
  }
}
