import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BackboneError } from '../errors.ts';
import { modelsDir, projectRoot } from '../paths.ts';

const featureTensorSchema = z.object({
  /** Name of the tensor inside the ONNX graph. */
  tensor: z.string().min(1),
  /** Input pixels per feature cell along each axis. */
  stride: z.number().int().positive(),
  channels: z.number().int().positive(),
  /** Human hint, e.g. the torchvision block the tensor comes from. */
  block: z.string().optional(),
});

export const backboneManifestSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, dot, dash and underscore'),
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
    bytes: z.number().int().positive().optional(),
    url: z.url().optional(),
    licence: z.string().min(1),
    source: z.string().optional(),
    input: z.object({
      name: z.string().min(1),
      size: z.number().int().min(32).max(1024),
      mean: z.tuple([z.number(), z.number(), z.number()]),
      std: z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]),
    }),
    /** Every tensor that may serve as a feature layer. */
    tensors: z.array(featureTensorSchema).min(1),
    /** The tensors used unless training names others. */
    defaultLayers: z.array(z.string().min(1)).min(1),
  })
  .superRefine((m, ctx) => {
    for (const layer of m.defaultLayers) {
      if (!m.tensors.some((t) => t.tensor === layer)) {
        ctx.addIssue({ code: 'custom', path: ['defaultLayers'], message: `layer ${layer} is not listed in tensors` });
      }
    }
    for (const t of m.tensors) {
      if (m.input.size % t.stride !== 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['tensors'],
          message: `input size ${m.input.size} is not a multiple of stride ${t.stride} (${t.tensor})`,
        });
      }
    }
  });

export type BackboneManifest = z.infer<typeof backboneManifestSchema>;
export type FeatureTensor = z.infer<typeof featureTensorSchema>;

export const DEFAULT_BACKBONE_ID = 'mobilenetv2-12-int8';

/** Folder of the backbone manifests shipped with the project (models/*.json). */
const manifestsDir = (): string => join(projectRoot(), 'models');

function parseBackboneManifest(raw: unknown, origin: string): BackboneManifest {
  const parsed = backboneManifestSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `backbone manifest ${origin} is invalid: ${z.prettifyError(parsed.error)}`,
      { origin },
    );
  }
  return parsed.data;
}

/**
 * Loads a manifest by id from models/, then from FAULTLINE_MODELS_DIR (where an exported backbone's file and manifest
 * lie side by side, so a model trained with it loads by the id it records), or from an explicit path to a JSON file.
 */
export function loadBackboneManifest(idOrPath: string = DEFAULT_BACKBONE_ID): BackboneManifest {
  const userDir = modelsDir();
  const byId = [manifestsDir(), ...(userDir ? [userDir] : [])].map((d) => join(d, `${idOrPath}.json`));
  // An id names a file in those folders, never a path elsewhere: an id with separators is looked for nowhere.
  const isId = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(idOrPath);
  const path = idOrPath.endsWith('.json')
    ? idOrPath
    : isId
      ? (byId.find((p) => existsSync(p)) ?? byId[0])
      : `(not an id) ${idOrPath}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    const known = listBackboneIds();
    throw new BackboneError(
      'BACKBONE_NOT_FOUND',
      `no backbone manifest "${idOrPath}" (looked for ${path}; known: ${known.join(', ')})`,
      { idOrPath, known },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new BackboneError(
      'BACKBONE_MANIFEST_INVALID',
      `backbone manifest ${path} is not valid JSON`,
      { path },
      { cause },
    );
  }
  return parseBackboneManifest(json, path);
}

export function listBackboneIds(): string[] {
  return readdirSync(manifestsDir())
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** Resolves layer names to their tensor descriptions, finest stride first (the grid the others are resized to). */
export function resolveLayers(
  manifest: BackboneManifest,
  layers: readonly string[] = manifest.defaultLayers,
): FeatureTensor[] {
  if (layers.length === 0) throw new BackboneError('BACKBONE_TENSOR_NOT_FOUND', 'at least one feature layer is needed');
  const resolved = layers.map((name) => {
    const t = manifest.tensors.find((x) => x.tensor === name);
    if (!t) {
      throw new BackboneError(
        'BACKBONE_TENSOR_NOT_FOUND',
        `layer ${name} is not a feature tensor of backbone ${manifest.id} (known: ${manifest.tensors.map((x) => x.tensor).join(', ')})`,
        { layer: name, backbone: manifest.id },
      );
    }
    return t;
  });
  return resolved;
}
