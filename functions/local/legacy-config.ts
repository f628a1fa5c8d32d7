import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The project/training backend's config.yaml and its APP_ environment overrides (nested keys joined by `__`, as
 * APP_UPLOAD__MAX_FILE_SIZE_MB), read by npm start when FAULTLINE_LEGACY_CONFIG names the file or an APP_ variable is
 * set. What maps onto a Faultline setting becomes that setting, unless the operator set the FAULTLINE_ one; the rest is
 * listed as not mapped, with why.
 */

/** Its keys (flattened, lower case) -> the Faultline setting and how the value converts. */
const MAPPED: Record<string, { setting: string; value: (v: string) => string }> = {
  data_dir: { setting: 'FAULTLINE_DATA_DIR', value: (v) => v },
  host: { setting: 'FAULTLINE_HOST', value: (v) => v },
  port: { setting: 'FAULTLINE_PORT', value: (v) => v },
  workers: { setting: 'FAULTLINE_WORKERS', value: (v) => v },
  upload__max_file_size_mb: {
    setting: 'FAULTLINE_MAX_IMAGE_BYTES',
    value: (v) => String(Math.round(Number(v) * 1024 * 1024)),
  },
  upload__max_files: { setting: 'FAULTLINE_MAX_FILES', value: (v) => v },
};

/** Keys it had that mean nothing here, and why. */
const NOT_MAPPED: Record<string, string> = {
  training__img_size: "the input size is fixed by the backbone's preprocessing",
  training__epochs: 'PatchCore builds its memory bank in one pass',
  training__lr: 'PatchCore has no gradient training',
  training__batch_size: 'the service batches images itself',
  training__device: 'set FAULTLINE_EXECUTION_PROVIDERS (cuda,cpu) instead',
  upload__allowed_extensions: 'images are recognised by their content, not their name',
};

export interface LegacyConfig {
  /** FAULTLINE_ settings it gives (those the operator set are left out). */
  settings: Record<string, string>;
  /** Its keys that did not map, each with why. */
  notMapped: { key: string; why: string }[];
}

function flatten(value: unknown, prefix: string, out: Record<string, string>): void {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value))
      flatten(v, prefix ? `${prefix}__${k.toLowerCase()}` : k.toLowerCase(), out);
  } else if (value !== null && value !== undefined)
    out[prefix] = Array.isArray(value) ? value.join(',') : String(value);
}

export function legacyConfig(env: NodeJS.ProcessEnv): LegacyConfig {
  const values: Record<string, string> = {};
  const file = env.FAULTLINE_LEGACY_CONFIG;
  if (file) {
    let parsed: unknown;
    try {
      parsed = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new Error(`FAULTLINE_LEGACY_CONFIG: cannot read ${file}: ${(error as Error).message}`);
    }
    if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed)))
      throw new Error(`FAULTLINE_LEGACY_CONFIG: ${file} is not a mapping of settings`);
    flatten(parsed, '', values);
  }
  for (const [name, value] of Object.entries(env))
    if (name.startsWith('APP_') && value !== undefined) values[name.slice(4).toLowerCase()] = value;
  const settings: Record<string, string> = {};
  const notMapped: LegacyConfig['notMapped'] = [];
  for (const [key, value] of Object.entries(values)) {
    const map = MAPPED[key];
    if (!map) {
      notMapped.push({ key, why: NOT_MAPPED[key] ?? 'no Faultline setting means this' });
      continue;
    }
    if (env[map.setting] === undefined) settings[map.setting] = map.value(value);
  }
  return { settings, notMapped };
}
