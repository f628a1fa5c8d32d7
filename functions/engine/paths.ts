import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The engine's settings from the environment, read here and nowhere else in the engine: where its files are, and
 * which onnxruntime execution providers to try. lib/data-plane.ts types the deployment's environment on these names.
 */
export type EngineSetting =
  | 'FAULTLINE_PROJECT_ROOT'
  | 'FAULTLINE_CACHE_DIR'
  | 'FAULTLINE_SHARED_DIR'
  | 'FAULTLINE_MODELS_DIR'
  | 'FAULTLINE_EXECUTION_PROVIDERS'
  | 'FAULTLINE_SEARCH';

const setting = (name: EngineSetting): string | undefined => process.env[name] || undefined;

/**
 * The project root (the folder with package.json and models/), found from this file's place in functions/engine, or
 * FAULTLINE_PROJECT_ROOT where the code is bundled into one file (a Lambda package keeps models/ beside it).
 */
export const projectRoot = (): string =>
  process.env.FAULTLINE_PROJECT_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where derived files (feature models) are cached: FAULTLINE_CACHE_DIR, else .cache/ in the project (git-ignored). */
export const cacheDir = (): string => process.env.FAULTLINE_CACHE_DIR ?? join(projectRoot(), '.cache');

/** The shared folder beside the project root, with models/ and datasets/ when present. */
export const sharedDir = (): string => process.env.FAULTLINE_SHARED_DIR ?? resolve(projectRoot(), '..', 'shared');

/** A folder searched first for backbone files (FAULTLINE_MODELS_DIR), when set. */
export const modelsDir = (): string | undefined => setting('FAULTLINE_MODELS_DIR');

/** The execution providers asked for (FAULTLINE_EXECUTION_PROVIDERS, e.g. "cuda,cpu"), unparsed; unset: undefined. */
export const executionProvidersSetting = (): string | undefined => setting('FAULTLINE_EXECUTION_PROVIDERS');

/** The patch search asked for (FAULTLINE_SEARCH: "exact" or "cell-probe"), unparsed; unset: undefined. */
export const searchMethodSetting = (): string | undefined => setting('FAULTLINE_SEARCH');
