import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCompatRuntime } from './compat-runtime.ts';

type Json = Record<string, any>;

/**
 * What the gateway refuses before a route runs (no key: 401; too many requests: 429; a body over the limit: 413),
 * as each older client reads it: in its contract's own error shape, not Faultline's {"error": ...}.
 */
const sigv4 = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/lookoutvision/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123',
  'x-amz-date': '20261201T000000Z',
};
const lookoutDetect = (url: string, body: Buffer, headers: Record<string, string> = {}) =>
  fetch(`${url}/2020-11-20/projects/line-1/models/1/detect`, {
    method: 'POST',
    headers: { ...sigv4, 'content-type': 'image/jpeg', ...headers },
    body,
  });
const flaskInfer = (url: string, bytes: Buffer, headers: Record<string, string> = {}) => {
  const form = new FormData();
  form.append('image', new Blob([bytes]), 'a.jpg');
  return fetch(`${url}/infer_json`, { method: 'POST', body: form, headers });
};
const read = async (res: Response) => ({
  status: res.status,
  type: res.headers.get('x-amzn-errortype'),
  body: (await res.json()) as Json,
});

describe('refusals before a route runs, as older clients read them', () => {
  describe('closed groups and a small body limit', () => {
    let url: string;
    let key: string;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      // Only the training backend's group is open: the Flask and Lookout clients, sending no key, are refused.
      const started = await startCompatRuntime('training-backend', { FAULTLINE_MAX_BODY_BYTES: '4096' });
      ({ stop } = started);
      url = started.runtime.url;
      key = started.runtime.apiKey!;
    }, 60_000);
    afterAll(async () => stop?.());

    it('401: the Flask client reads {status: "error", message}, the Lookout client AccessDeniedException', async () => {
      const flask = await read(await flaskInfer(url, Buffer.from('x')));
      expect(flask.status).toBe(401);
      expect(flask.body).toEqual({ status: 'error', message: expect.stringMatching(/API key/), code: 'UNAUTHORIZED' });
      const lookout = await read(await lookoutDetect(url, Buffer.from('x')));
      expect([lookout.status, lookout.type, lookout.body.__type]).toEqual([
        403,
        'AccessDeniedException',
        'AccessDeniedException',
      ]);
      expect(lookout.body.message).toMatch(/API key/);
    });

    it('413: a body over the limit in each contract shape', async () => {
      const big = Buffer.alloc(8192, 1);
      const flask = await read(await flaskInfer(url, big, { 'x-api-key': key }));
      expect([flask.status, flask.body.status, flask.body.code]).toEqual([413, 'error', 'PAYLOAD_TOO_LARGE']);
      const lookout = await read(await lookoutDetect(url, big, { 'x-api-key': key }));
      expect([lookout.status, lookout.type]).toEqual([400, 'ValidationException']);
      expect(lookout.body.message).toMatch(/larger than 4096 bytes/);
      const form = new FormData();
      form.append('files', new Blob([big]), 'a.jpg');
      const backend = await read(await fetch(`${url}/projects/any/upload`, { method: 'POST', body: form }));
      expect(backend.status).toBe(413);
      expect(backend.body.detail).toMatch(/larger than 4096 bytes/);
      expect(backend.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it("Faultline's own routes keep Faultline's shape", async () => {
      const res = await read(await fetch(`${url}/api/v1/projects`));
      expect([res.status, res.body.error.code]).toEqual([401, 'UNAUTHORIZED']);
    });
  });

  describe('the open groups rate limit', () => {
    let url: string;
    let stop: () => Promise<void>;
    beforeAll(async () => {
      const started = await startCompatRuntime('flask,lookout', {
        FAULTLINE_OPEN_RATE_LIMIT: '1',
        FAULTLINE_OPEN_RATE_BURST: '1',
      });
      ({ stop } = started);
      url = started.runtime.url;
    }, 60_000);
    afterAll(async () => stop?.());

    it('429: the Flask client reads {status: "error"}, the Lookout client ThrottlingException', async () => {
      await flaskInfer(url, Buffer.from('x')); // the one request the burst allows
      const flask = await flaskInfer(url, Buffer.from('x'));
      const flaskBody = (await flask.json()) as Json;
      expect([flask.status, flaskBody.status, flaskBody.code]).toEqual([429, 'error', 'TOO_MANY_REQUESTS']);
      expect(flask.headers.get('retry-after')).toMatch(/^\d+$/);
      // Lookout clients sign with SigV4, which Faultline does not read: without a key they are open callers.
      const lookout = await read(await lookoutDetect(url, Buffer.from('x')));
      expect([lookout.status, lookout.type, lookout.body.__type]).toEqual([
        429,
        'ThrottlingException',
        'ThrottlingException',
      ]);
    });
  });
});
