import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { executionProvidersSetting } from '../paths.ts';

export type ExecutionProvider = 'cuda' | 'cpu';

/**
 * Execution providers from FAULTLINE_EXECUTION_PROVIDERS (e.g. "cuda,cpu"), default cpu. CUDA needs the GPU build
 * of onnxruntime's native files, installed apart from npm (see README); without them the session falls back to CPU.
 */
function configuredProviders(): ExecutionProvider[] {
  const raw = executionProvidersSetting();
  if (!raw) return ['cpu'];
  const list = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const p of list)
    if (p !== 'cuda' && p !== 'cpu')
      throw new Error(`FAULTLINE_EXECUTION_PROVIDERS: unknown provider "${p}" (use cuda, cpu)`);
  return list as ExecutionProvider[];
}

export interface SessionOptions {
  providers?: ExecutionProvider[];
  threads?: number;
  /** Let idle pool threads spin: faster for a session run many times in a row with nothing else in between. */
  spinning?: boolean;
}

/** Creates a session on the first provider that loads, so a GPU is used when present and never required. */
export async function createSession(
  model: string | Uint8Array,
  options: SessionOptions = {},
): Promise<ort.InferenceSession> {
  const providers = options.providers ?? configuredProviders();
  const base: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: options.threads ?? availableParallelism(),
    interOpNumThreads: 1,
    // Off by default: detection alternates two sessions (backbone, search), and the spinning idle threads of one steal
    // the cores the other needs (measured on 2 cores: search 45 ms p50 with spinning, 25 ms without).
    extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
  };
  let lastError: unknown;
  for (const provider of providers) {
    try {
      const opts = { ...base, executionProviders: [provider] };
      return typeof model === 'string'
        ? await ort.InferenceSession.create(model, opts)
        : await ort.InferenceSession.create(model, opts);
    } catch (error) {
      lastError = error;
      if (provider !== 'cpu')
        process.emitWarning(
          `onnxruntime: ${provider} execution provider unavailable, trying the next (${(error as Error).message})`,
        );
    }
  }
  throw lastError;
}
