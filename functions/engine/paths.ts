import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project root (the folder with package.json and models/), found from this file's place in functions/engine, or
 * FAULTLINE_PROJECT_ROOT where the code is bundled into one file (a Lambda package keeps models/ beside it).
 */
export const projectRoot = (): string => process.env.FAULTLINE_PROJECT_ROOT ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where derived files (feature models) are cached: FAULTLINE_CACHE_DIR, else .cache/ in the project (git-ignored). */
export const cacheDir = (): string => process.env.FAULTLINE_CACHE_DIR ?? join(projectRoot(), '.cache');

/** The shared folder beside the project root, with models/ and datasets/ when present. */
export const sharedDir = (): string => process.env.FAULTLINE_SHARED_DIR ?? resolve(projectRoot(), '..', 'shared');
