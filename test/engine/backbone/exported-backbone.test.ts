import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBackboneManifest } from '../../../functions/engine/backbone/backbone-manifest.ts';
import { fileImage } from '../../../functions/engine/dataset/image-source.ts';
import { Detector } from '../../../functions/engine/detection/detector.ts';
import { seededRandom } from '../../../functions/engine/math/random.ts';
import { DataType, floatTensor, node, valueInfo } from '../../../functions/engine/onnx/graph-builder.ts';
import { onnx } from '../../../functions/engine/onnx/onnx-proto.ts';
import { sharedDir } from '../../../functions/engine/paths.ts';
import { train } from '../../../functions/engine/training/train.ts';

const cookie = join(sharedDir(), 'datasets', 'cookie');
const ID = 'exported-test-layer2-layer3';

/**
 * A float backbone shaped as scripts/export_torchvision_backbone.py writes one: input `input` [batch, 3, 224, 224],
 * the chosen blocks as graph outputs named after them (layer2 at stride 8, layer3 at stride 16), no classifier head.
 * Its weights are seeded random numbers (real ones cannot be downloaded here); random convolutions still describe
 * local texture, enough for a crack on a cookie to stand out.
 */
function exportedBackbone(): Uint8Array {
  const random = seededRandom(5);
  const weights = (n: number, scale: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
  const model = {
    irVersion: 8,
    producerName: 'pytorch',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'trunk',
      node: [
        node('Conv', ['input', 'w1', 'b1'], ['stem'], { kernel_shape: { ints: [8, 8] }, strides: { ints: [8, 8] } }),
        node('Relu', ['stem'], ['layer2']),
        node('Conv', ['layer2', 'w2', 'b2'], ['l3'], {
          kernel_shape: { ints: [3, 3] },
          strides: { ints: [2, 2] },
          pads: { ints: [1, 1, 1, 1] },
        }),
        node('Relu', ['l3'], ['layer3']),
      ],
      initializer: [
        floatTensor('w1', [16, 3, 8, 8], weights(16 * 3 * 64, 0.1)),
        floatTensor('b1', [16], weights(16, 0.1)),
        floatTensor('w2', [24, 16, 3, 3], weights(24 * 16 * 9, 0.1)),
        floatTensor('b2', [24], weights(24, 0.1)),
      ],
      input: [valueInfo('input', DataType.FLOAT, ['batch', 3, 224, 224])],
      output: [
        valueInfo('layer2', DataType.FLOAT, ['batch', 16, 28, 28]),
        valueInfo('layer3', DataType.FLOAT, ['batch', 24, 14, 14]),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}

/** The user's path of models/README.md ("Bringing your own backbone"), with the export done in code. */
describe.skipIf(!existsSync(cookie))('a user-exported backbone, end to end', () => {
  let root: string;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'faultline-exported-'));
    const exported = join(root, 'exported');
    await mkdir(exported);
    const bytes = exportedBackbone();
    await writeFile(join(exported, `${ID}.onnx`), bytes);
    // The manifest exactly as the export script writes it.
    const manifest = {
      id: ID,
      file: `${ID}.onnx`,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.byteLength,
      licence: 'BSD-3-Clause (torchvision code); check the licence of the weights you use',
      source: 'built in the test, shaped as scripts/export_torchvision_backbone.py exports',
      input: { name: 'input', size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
      tensors: [
        { tensor: 'layer2', stride: 8, channels: 16, block: 'layer2' },
        { tensor: 'layer3', stride: 16, channels: 24, block: 'layer3' },
      ],
      defaultLayers: ['layer2', 'layer3'],
    };
    await writeFile(join(exported, `${ID}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
    for (const k of ['FAULTLINE_MODELS_DIR', 'FAULTLINE_CACHE_DIR']) saved[k] = process.env[k];
    process.env.FAULTLINE_MODELS_DIR = exported;
    process.env.FAULTLINE_CACHE_DIR = join(root, 'cache');
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await rm(root, { recursive: true, force: true });
  });

  it('looks an id up in models/ and FAULTLINE_MODELS_DIR only: an id with separators is found nowhere', () => {
    expect(loadBackboneManifest(ID).id).toBe(ID);
    for (const id of [`../exported/${ID}`, `exported/${ID}`, '..'])
      expect(() => loadBackboneManifest(id)).toThrow(expect.objectContaining({ code: 'BACKBONE_NOT_FOUND' }));
  });

  for (const resolution of [224, 448]) {
    it(`trains by its id, loads it again by the id the model records, and ranks a crack above good cookies (${resolution} px)`, async () => {
      const names = readdirSync(join(cookie, 'train', 'good'))
        .sort()
        .slice(0, 5);
      const { artifact } = await train(
        names.map((n) => fileImage(n, join(cookie, 'train', 'good', n))),
        { backbone: ID, resolution },
      );
      expect(artifact.manifest.backbone).toMatchObject({ id: ID, layers: ['layer2', 'layer3'], channels: 40 });
      expect(artifact.manifest.backbone.grid).toBe(resolution / 8);
      const detector = await Detector.load(artifact);
      const score = async (path: string) =>
        (await detector.detect(await readFile(join(cookie, 'test', path)), { visualizations: false })).result;
      const crack = await score('cracked/anomaly-1.jpg');
      const goods = await Promise.all(['good/test-normal-2.jpg', 'good/test-normal-3.jpg'].map(score));
      await detector.release();
      for (const good of goods) expect(crack.raw_score).toBeGreaterThan(good.raw_score);
      expect(crack.model_version.startsWith(ID)).toBe(true);
    }, 120_000);
  }
});
