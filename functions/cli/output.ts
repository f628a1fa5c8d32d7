import { InvalidArgumentError } from 'commander';
import { FaultlineError } from '../engine/errors.ts';

/** One JSON document per line on stdout: what scripts and other programs read. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** An error as the JSON a caller can act on: the engine's typed errors keep their code. */
export function errorJson(error: unknown): { code: string; message: string; details?: Record<string, unknown> } {
  if (error instanceof FaultlineError) return error.toJSON();
  return { code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error) };
}

/** Exit codes: 1 for a failure of the work (bad image, bad dataset), 2 for a wrong invocation. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export function numberOption(name: string, check: (v: number) => boolean, expected: string): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || !check(value))
      throw new InvalidArgumentError(`${name} must be ${expected}, got "${raw}"`);
    return value;
  };
}

export const positiveInteger = (name: string) =>
  numberOption(name, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
export const fraction = (name: string) =>
  numberOption(name, (v) => v > 0 && v < 1, 'a number between 0 and 1 (exclusive)');
