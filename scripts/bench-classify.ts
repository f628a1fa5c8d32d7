/**
 * Classifier benchmark (npm run bench:classify): the local runtime on a temporary data folder, a classification
 * project whose model is the backbone itself (MobileNetV2, an ImageNet classifier: 1000 classes, 224x224), uploaded
 * with its spec through the API; then, on the same image, 100 runs one after another of
 *   - the bare onnxruntime session on an already prepared input tensor (the baseline, same model, same run);
 *   - the classifier in this process (decode, resize, normalise, run, read the head);
 *   - POST /api/v1/projects/{id}/classify and POST /api/v1/analyze/image through HTTP (stored, announced).
 * Figures go to bench-results/classify.{json,md}.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { prepareBackbone } from '../functions/engine/backbone/obtain-backbone.ts';
import { classifierSpecSchema } from '../functions/engine/classification/classifier-spec.ts';
import { inputDims, prepareClassifierInput } from '../functions/engine/classification/prepare-input.ts';
import { createSession } from '../functions/engine/onnx/create-session.ts';
import { loadLocalSettings, isolatedRuntimeEnv } from '../functions/local/local-settings.ts';
import { startLocalRuntime } from '../functions/local/runtime.ts';
import { loadClassifier } from '../functions/service/classification/classifier-cache.ts';
import { silentLog } from '../functions/service/log.ts';
import { apiClient, CRACKED_IMAGE, describeMachine, machine, stats, writeReport } from './bench/common.ts';

const RUNS = 100;
const WARM_UP = 5;

const dataDir = await mkdtemp(join(tmpdir(), 'faultline-bench-classify-'));
const runtime = await startLocalRuntime(
  loadLocalSettings({ ...isolatedRuntimeEnv(dataDir), FAULTLINE_ACCESS_LOG: 'false' }),
  silentLog,
);
try {
  const api = apiClient(runtime.url, runtime.apiKey);
  const backbone = await prepareBackbone();
  const model = await readFile(backbone.backbonePath);
  const m = backbone.manifest;
  const spec = classifierSpecSchema.parse({
    input: {
      name: m.input.name,
      width: m.input.size,
      height: m.input.size,
      normalise: { scale: 1 / 255, mean: m.input.mean, std: m.input.std },
    },
    heads: [
      {
        name: 'imagenet_class',
        output: 'output',
        classes: Array.from({ length: 1000 }, (_, i) => `class_${i}`),
        activation: 'softmax',
      },
    ],
  });
  const project = await api('/api/v1/projects', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench-classify', kind: 'classification' }),
  });
  const upload = new FormData();
  upload.append('model', new Blob([model]), m.file);
  upload.append('spec', new Blob([JSON.stringify(spec)]), 'spec.json');
  const uploadStarted = performance.now();
  const version = await api(`/api/v1/projects/${project.id}/models/upload`, { method: 'POST', body: upload });
  const uploadMs = performance.now() - uploadStarted;
  runtime.services.config.FAULTLINE_DEFAULT_CLASSIFIER_PROJECT = project.id;

  const image = await readFile(CRACKED_IMAGE.path);
  const time = async (run: () => Promise<unknown>) => {
    for (let i = 0; i < WARM_UP; i++) await run();
    const out: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      await run();
      out.push(performance.now() - t);
    }
    return out;
  };

  // Baseline: a bare session of the same file with the service's session settings, on a prepared tensor.
  const session = await createSession(model);
  const prepared = (await prepareClassifierInput(image, spec.input)).data;
  const bare = await time(() =>
    session.run({ [spec.input.name]: new ort.Tensor('float32', prepared, inputDims(spec.input)) }),
  );
  await session.release();
  const stored = (await runtime.services.uploadedModels.get(project.id, version.version))!;
  const classifier = await loadClassifier(runtime.services, stored);
  const inProcess = await time(() => classifier.classify(image));
  const post = (path: string) => async () => {
    const body = new FormData();
    body.append('file', new Blob([image], { type: 'image/jpeg' }), CRACKED_IMAGE.name);
    await api(path, { method: 'POST', body });
  };
  const http = await time(post(`/api/v1/projects/${project.id}/classify`));
  const compat = await time(post('/api/v1/analyze/image'));

  const base = stats(bare);
  const ratio = (xs: number[]) => ({
    p50: Number((stats(xs).p50 / base.p50).toFixed(2)),
    p95: Number((stats(xs).p95 / base.p95).toFixed(2)),
  });
  const report = {
    date: new Date().toISOString(),
    machine: machine(),
    model: { file: m.file, bytes: model.byteLength, input: `${m.input.size}x${m.input.size}`, classes: 1000 },
    uploadCheckMs: Math.round(uploadMs),
    runs: RUNS,
    latencyMs: {
      bareOnnxruntime: base,
      inProcess: stats(inProcess),
      httpClassify: stats(http),
      httpAnalyzeImage: stats(compat),
    },
    ratioToBare: { inProcess: ratio(inProcess), httpClassify: ratio(http), httpAnalyzeImage: ratio(compat) },
  };
  const row = (name: string, xs: number[]) =>
    `| ${name} | ${stats(xs).p50} | ${stats(xs).p95} | x${ratio(xs).p50} | x${ratio(xs).p95} |`;
  const md = [
    `Classifier benchmark, ${RUNS} runs each on ${describeMachine(report.machine)}: ${m.file} (${report.model.input}, 1000 classes), image ${CRACKED_IMAGE.name}; upload with its check ${report.uploadCheckMs} ms`,
    '',
    '| path | p50 ms | p95 ms | p50 vs bare | p95 vs bare |',
    '|---|---|---|---|---|',
    row('bare onnxruntime session (prepared tensor)', bare),
    row('classifier in process (decode, resize, run, head)', inProcess),
    row('HTTP POST /projects/{id}/classify', http),
    row('HTTP POST /api/v1/analyze/image', compat),
    '',
  ].join('\n');
  await writeReport('classify', report, md);
} finally {
  await runtime.stop();
  await rm(dataDir, { recursive: true, force: true });
}
