/**
 * Fixed-concurrency load with autocannon (keep-alive connections, each sending its next request when the last one
 * is answered), every response's latency recorded here so that any percentile can be given.
 */
import autocannon from 'autocannon';
import { CRACKED_IMAGE, stats } from './common.ts';

export interface LoadRequest {
  method?: 'GET' | 'POST';
  /** Path and query, e.g. /api/v1/projects. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export interface LoadOutcome {
  connections: number;
  seconds: number;
  /** Responses of any status. */
  responses: number;
  requestsPerSecond: number;
  latencyMs: ReturnType<typeof stats> & { max: number };
  /** Responses by status code. */
  statusCodes: Record<string, number>;
  non2xx: number;
  /** Connection errors and timeouts (a timeout counts in both). */
  errors: number;
  timeouts: number;
  /** The first few error messages. */
  errorMessages: string[];
}

/** The multipart body of one detection request, built once (fixed boundary) and sent as it is. */
function detectRequest(path: string, image: Buffer, visualizations: boolean, apiKey: string): LoadRequest {
  const boundary = 'faultline-bench-boundary-7f3a9c';
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${CRACKED_IMAGE.name}"\r\ncontent-type: image/jpeg\r\n\r\n`,
    ),
    image,
    Buffer.from(
      `\r\n--${boundary}\r\ncontent-disposition: form-data; name="return_visualizations"\r\n\r\n${visualizations}\r\n--${boundary}--\r\n`,
    ),
  ]);
  return {
    method: 'POST',
    path,
    body,
    headers: { 'x-api-key': apiKey, 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** The requests the load benchmarks send: the health check, the read routes, and detection of `image`. */
export function serviceRequests(apiKey: string, projectId: string, jobId: string, image: Buffer) {
  const base = `/api/v1/projects/${projectId}`;
  const get = (path: string): LoadRequest => ({ method: 'GET', path, headers: { 'x-api-key': apiKey } });
  return {
    health: get('/health'),
    projects: get('/api/v1/projects'),
    project: get(base),
    results: get(`${base}/results?limit=20`),
    job: get(`/api/v1/jobs/${jobId}`),
    models: get(`${base}/models`),
    detect: detectRequest(`${base}/detect`, image, false, apiKey),
    detectWithPngs: detectRequest(`${base}/detect`, image, true, apiKey),
  };
}

/** Failures in words ('' when every request got a 2xx answer). */
export const failures = (
  o: Pick<LoadOutcome, 'non2xx' | 'errors' | 'timeouts' | 'statusCodes' | 'errorMessages'>,
): string =>
  o.non2xx + o.errors === 0
    ? ''
    : [
        o.non2xx
          ? `${o.non2xx} non-2xx (${Object.entries(o.statusCodes)
              .filter(([c]) => !c.startsWith('2'))
              .map(([c, n]) => `${n} x ${c}`)
              .join(', ')})`
          : '',
        o.errors ? `${o.errors} errors (${o.timeouts} timeouts; ${o.errorMessages.join('; ')})` : '',
      ]
        .filter(Boolean)
        .join(', ');

/**
 * `connections` connections to `url`, for `seconds`, cycling through `requests` (each connection in order).
 * A request unanswered after `timeoutSeconds` counts as a timeout.
 */
export async function runLoad(o: {
  url: string;
  requests: LoadRequest[];
  connections: number;
  seconds: number;
  timeoutSeconds?: number;
}): Promise<LoadOutcome> {
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  const errorMessages = new Set<string>();
  let instance!: autocannon.Instance;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: o.url,
        connections: o.connections,
        duration: o.seconds,
        timeout: o.timeoutSeconds ?? 10,
        requests: o.requests,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance.on('response', (_client, statusCode, _bytes, ms) => {
    latencies.push(ms);
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
  });
  instance.on('reqError', (error) => {
    if (errorMessages.size < 5) errorMessages.add(String(error?.message ?? error));
  });
  const result = await done;
  const max = latencies.length ? latencies.reduce((m, x) => (x > m ? x : m), -Infinity) : Number.NaN;
  return {
    connections: o.connections,
    seconds: result.duration,
    responses: latencies.length,
    requestsPerSecond: Number((latencies.length / result.duration).toFixed(1)),
    latencyMs: { ...stats(latencies), max: Number(max.toFixed(1)) },
    statusCodes,
    non2xx: Object.entries(statusCodes).reduce((n, [code, count]) => n + (code.startsWith('2') ? 0 : count), 0),
    errors: result.errors,
    timeouts: result.timeouts,
    errorMessages: [...errorMessages],
  };
}

/** Calls `sample` at once and every `ms` until the returned stop is called; stop gives the samples (or the first failure). */
export function sampleEvery<T>(ms: number, sample: () => Promise<T>): { stop: () => Promise<T[]> } {
  const samples: T[] = [];
  let failure: unknown;
  const take = () =>
    sample().then(
      (s) => void samples.push(s),
      (error) => void (failure ??= error),
    );
  let pending = take();
  const timer = setInterval(() => (pending = pending.then(take)), ms);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      if (failure) throw failure;
      return samples;
    },
  };
}
