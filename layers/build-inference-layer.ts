/**
 * Builds the Lambda layer with the native parts of the inference stack, for linux x86_64 only: onnxruntime-node
 * (its CPU binaries for linux/x64, nothing for other platforms) and sharp with its libvips package. The functions
 * are bundled with esbuild and take these from the layer (/opt/nodejs/node_modules).
 *
 * Usage: npx tsx layers/build-inference-layer.ts [OUT_DIR]   (default layers/inference, git-ignored)
 */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LAYER_PACKAGES = [
  'onnxruntime-node',
  'onnxruntime-common',
  'sharp',
  '@img/sharp-linux-x64',
  '@img/sharp-libvips-linux-x64',
  '@img/colour',
  'detect-libc',
  'semver',
];

/** Copies the packages into OUT/nodejs/node_modules, leaving out onnxruntime's binaries for other platforms. */
export function buildInferenceLayer(out = join(root, 'layers', 'inference')): string {
  const modules = join(out, 'nodejs', 'node_modules');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(modules, { recursive: true });
  for (const name of LAYER_PACKAGES) {
    const from = join(root, 'node_modules', name);
    if (!existsSync(from)) throw new Error(`${name} is not installed (run npm ci on linux x86_64): the layer needs it`);
    cpSync(from, join(modules, name), {
      recursive: true,
      filter: (src) => {
        const rel = src.slice(from.length);
        if (name === 'onnxruntime-node' && rel.startsWith('/bin/napi-v6/')) {
          const parts = rel.split('/').filter(Boolean); // bin, napi-v6, platform, arch
          if (parts.length >= 3 && parts[2] !== 'linux') return false;
          if (parts.length >= 4 && parts[3] !== 'x64') return false;
        }
        return !rel.endsWith('.md') && !rel.includes('/.cache');
      },
    });
  }
  return out;
}

/** Total bytes under a folder (the layer must stay under Lambda's 250 MB unzipped limit). */
export function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? folderBytes(path) : statSync(path).size;
  }
  return total;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = buildInferenceLayer(process.argv[2] ? resolve(process.argv[2]) : undefined);
  process.stdout.write(`inference layer in ${out}: ${(folderBytes(out) / 1e6).toFixed(1)} MB\n`);
}
