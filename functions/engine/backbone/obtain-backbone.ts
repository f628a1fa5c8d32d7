import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackboneError } from '../errors.ts';
import { cacheDir, modelsDir, sharedDir } from '../paths.ts';
import { type BackboneManifest, type FeatureTensor, loadBackboneManifest, resolveLayers } from './backbone-manifest.ts';
import { DEFAULT_AGGREGATION, deriveFeatureModel } from './feature-model.ts';

export interface PreparedBackbone {
  manifest: BackboneManifest;
  /** Feature layers, in the order their channels are concatenated. */
  layers: FeatureTensor[];
  /** The derived feature-extraction model (cached on disk). */
  featureModelPath: string;
  /** The verified original backbone file. */
  backbonePath: string;
  /** Side of the neighbourhood each patch's features are averaged over (feature-model.ts). */
  aggregation: number;
  /** Patches per side of the feature grid (input size / finest stride). */
  grid: number;
  /** Length of one patch's feature vector. */
  channels: number;
}

export interface PrepareOptions {
  backbone?: string;
  layers?: readonly string[];
  /** Neighbourhood side of the feature averaging (default 3). */
  aggregation?: number;
  /** Called with downloaded and total bytes while a download runs. */
  onDownload?: (received: number, total: number | undefined) => void;
  /** Network fetch, replaceable in tests. */
  fetchImpl?: typeof fetch;
}

/** Folders searched, in order, for a backbone file before downloading it. */
function backboneSearchDirs(): { dir: string; origin: string }[] {
  const dirs: { dir: string; origin: string }[] = [];
  const models = modelsDir();
  if (models) dirs.push({ dir: models, origin: 'FAULTLINE_MODELS_DIR' });
  dirs.push({ dir: join(sharedDir(), 'models'), origin: 'shared models folder' });
  return dirs;
}

const downloadsDir = (): string => join(cacheDir(), 'backbones');

async function sha256File(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Finds (or downloads) the backbone, verifies its digest, and derives the feature model once. */
export async function prepareBackbone(options: PrepareOptions = {}): Promise<PreparedBackbone> {
  const manifest = loadBackboneManifest(options.backbone);
  const layers = resolveLayers(manifest, options.layers ?? manifest.defaultLayers);
  const backbonePath = await obtainBackboneFile(manifest, options);
  const finest = Math.min(...layers.map((l) => l.stride));
  const aggregation = options.aggregation ?? DEFAULT_AGGREGATION;
  // The default keeps its old key, so feature models cached before the option existed stay valid.
  const layerKey = createHash('sha256')
    .update(layers.map((l) => l.tensor).join('|') + (aggregation === DEFAULT_AGGREGATION ? '' : `|k${aggregation}`))
    .digest('hex')
    .slice(0, 10);
  const featureModelPath = join(
    cacheDir(),
    'features',
    `${manifest.id}-${manifest.sha256.slice(0, 12)}-${layerKey}.onnx`,
  );
  if (!existsSync(featureModelPath)) {
    const derived = deriveFeatureModel(await readFile(backbonePath), manifest, layers, backbonePath, aggregation);
    await writeAtomically(featureModelPath, derived);
  }
  return {
    manifest,
    layers,
    featureModelPath,
    backbonePath,
    aggregation,
    grid: manifest.input.size / finest,
    channels: layers.reduce((s, l) => s + l.channels, 0),
  };
}

async function obtainBackboneFile(manifest: BackboneManifest, options: PrepareOptions): Promise<string> {
  for (const { dir, origin } of backboneSearchDirs()) {
    const candidate = join(dir, manifest.file);
    if (!existsSync(candidate)) continue;
    const digest = await sha256File(candidate);
    if (digest !== manifest.sha256) {
      throw new BackboneError(
        'BACKBONE_DIGEST_MISMATCH',
        `${candidate} (from the ${origin}) has sha256 ${digest}, but backbone ${manifest.id} expects ${manifest.sha256}; replace the file or remove it so the expected one is downloaded`,
        { file: candidate, expected: manifest.sha256, actual: digest },
      );
    }
    return candidate;
  }
  const cached = join(downloadsDir(), manifest.file);
  if (existsSync(cached)) {
    if ((await sha256File(cached)) === manifest.sha256) return cached;
    await rm(cached, { force: true }); // a damaged earlier download: fetch it again
  }
  return download(manifest, cached, options);
}

async function download(manifest: BackboneManifest, target: string, options: PrepareOptions): Promise<string> {
  if (!manifest.url) {
    throw new BackboneError(
      'BACKBONE_NOT_FOUND',
      `backbone ${manifest.id}: ${manifest.file} is not in ${backboneSearchDirs()
        .map((d) => d.dir)
        .join(' or ')} and its manifest has no url to download it from`,
      { file: manifest.file },
    );
  }
  await mkdir(downloadsDir(), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  const hash = createHash('sha256');
  let received = 0;
  try {
    const response = await (options.fetchImpl ?? fetch)(manifest.url);
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get('content-length')) || undefined;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        received += chunk.length;
        options.onDownload?.(received, total);
        done(null, chunk);
      },
    });
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream),
      meter,
      createWriteStream(partial),
    );
  } catch (cause) {
    await rm(partial, { force: true });
    throw new BackboneError(
      'BACKBONE_DOWNLOAD_FAILED',
      `could not download backbone ${manifest.id} from ${manifest.url}: ${(cause as Error).message}; put ${manifest.file} in FAULTLINE_MODELS_DIR instead`,
      { url: manifest.url },
      { cause },
    );
  }
  const digest = hash.digest('hex');
  if (digest !== manifest.sha256) {
    await rm(partial, { force: true });
    throw new BackboneError(
      'BACKBONE_DIGEST_MISMATCH',
      `the file downloaded from ${manifest.url} (${received} bytes) has sha256 ${digest}, but backbone ${manifest.id} expects ${manifest.sha256}${manifest.bytes ? ` (${manifest.bytes} bytes)` : ''}; it was not kept`,
      { url: manifest.url, expected: manifest.sha256, actual: digest, bytes: received },
    );
  }
  await rename(partial, target);
  return target;
}

/** Writes through a temporary file and a rename, so a killed process never leaves half a file behind. */
async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
