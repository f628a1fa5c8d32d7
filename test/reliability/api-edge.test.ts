import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalRuntime, startLocalRuntime } from '../../functions/local/runtime.ts';
import { silentLog } from '../../functions/service/log.ts';
import { testSettings } from '../helpers/local-runtime.ts';

const MB = 1024 * 1024;
const MAX_BODY = 2 * MB;
const BUDGET = 4 * MB;

interface RawAnswer {
  status: number;
  headers: string;
  body: any;
  /** Bytes of the body the client got into the socket before the answer came or the connection closed. */
  sent: number;
}

/**
 * One request over a raw socket: the head, then the body in chunks (each written when the socket takes it), of
 * which only the first `sendBytes` are sent; the connection is then held until an answer comes or `waitMs` passes.
 */
function raw(
  port: number,
  head: string,
  o: { sendBytes?: number; chunk?: number; pauseMs?: number; waitMs?: number } = {},
): Promise<RawAnswer | 'no answer'> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let sent = 0;
    let finished = false;
    const finish = (answer: RawAnswer | 'no answer') => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const parse = (): RawAnswer | undefined => {
      const split = received.indexOf('\r\n\r\n');
      if (split < 0) return undefined;
      const headers = received.subarray(0, split).toString();
      const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? -1);
      const body = received.subarray(split + 4);
      if (length < 0 || body.length < length) return undefined;
      let parsed: unknown = body.toString();
      try {
        parsed = JSON.parse(body.toString());
      } catch {
        // not JSON: the test says so
      }
      return { status: Number(headers.split(' ')[1]), headers, body: parsed, sent };
    };
    const timer = setTimeout(() => finish('no answer'), o.waitMs ?? 5_000);
    socket.on('data', (d: Buffer) => {
      received = Buffer.concat([received, d]);
      const answer = parse();
      if (answer) finish(answer);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => finish(parse() ?? 'no answer'));
    socket.on('connect', async () => {
      socket.write(head);
      const chunk = Buffer.alloc(o.chunk ?? 256 * 1024, 'a');
      while (!finished && sent < (o.sendBytes ?? 0)) {
        const piece = chunk.subarray(0, Math.min(chunk.length, (o.sendBytes ?? 0) - sent));
        sent += piece.length;
        if (!socket.write(piece)) await new Promise((r) => socket.once('drain', r).once('close', r));
        if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs));
      }
    });
  });
}

const postHead = (path: string, length: number, headers: Record<string, string> = {}) =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n${Object.entries(
    headers,
  )
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/** The service's edge: credentials before bodies, a bound on bodies held at once, slow bodies, oversized heads. */
describe('the API edge', () => {
  let runtime: LocalRuntime;
  let dataDir: string;
  let port: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'faultline-edge-'));
    runtime = await startLocalRuntime(
      testSettings(dataDir, {
        FAULTLINE_ACCESS_LOG: 'false',
        FAULTLINE_MAX_BODY_BYTES: String(MAX_BODY),
        FAULTLINE_BODY_BUDGET_BYTES: String(BUDGET),
        FAULTLINE_BODY_IDLE_SECONDS: '0.5',
        FAULTLINE_BODY_TIMEOUT_SECONDS: '3',
        FAULTLINE_RATE_LIMIT: '0',
      }),
      silentLog,
    );
    port = Number(new URL(runtime.url).port);
  });
  afterAll(async () => {
    await runtime?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers uploads without a valid key 401 from their headers, without reading or holding their bodies', async () => {
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 20);
    // 40 uploads of a full-size body, the last byte held back: an answer can only come from the headers.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        raw(port, postHead('/api/v1/projects', MAX_BODY, i % 2 ? { 'x-api-key': 'flk_not-a-key' } : {}), {
          sendBytes: MAX_BODY - 1,
          waitMs: 8_000,
        }),
      ),
    );
    clearInterval(sampler);
    for (const a of answers) {
      expect(a).not.toBe('no answer');
      expect((a as RawAnswer).status).toBe(401);
      expect((a as RawAnswer).body.error.code).toBe('UNAUTHORIZED');
      expect((a as RawAnswer).headers).toMatch(/connection: close/i);
    }
    // 40 bodies of 2 MB buffered would be 80 MB; the sockets' own buffers are all that may be in flight.
    expect(peak - before).toBeLessThan(16 * MB);
    // An expected 100 Continue is not sent to a caller without a key either.
    const continued = await raw(port, postHead('/api/v1/projects', MAX_BODY, { expect: '100-continue' }));
    expect((continued as RawAnswer).status).toBe(401);
  });

  it('refuses bodies beyond the shared budget with 503 and Retry-After, and takes them again once it is free', async () => {
    const key = { 'x-api-key': runtime.apiKey! };
    // Two full-size bodies, held open, take the whole 4 MB budget...
    const holding = [0, 1].map(() =>
      raw(port, postHead('/api/v1/projects', MAX_BODY, key), { sendBytes: MB, waitMs: 2_500 }),
    );
    await new Promise((r) => setTimeout(r, 300));
    // ...so that a third, declared or chunked, is refused at once, not buffered.
    const declared = await raw(port, postHead('/api/v1/projects', MAX_BODY, key), { sendBytes: MB, waitMs: 2_000 });
    const chunkedHead = `POST /api/v1/projects HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nx-api-key: ${runtime.apiKey}\r\n\r\n`;
    const chunked = await raw(port, `${chunkedHead}4\r\n{"a"\r\n`, { waitMs: 2_000 });
    for (const a of [declared, chunked]) {
      expect(a).not.toBe('no answer');
      expect((a as RawAnswer).status).toBe(503);
      expect((a as RawAnswer).body.error.code).toBe('SERVER_BUSY');
      expect((a as RawAnswer).headers).toMatch(/retry-after: 1/i);
    }
    // The held bodies time out (408) and give their share back: a small request goes through again.
    for (const a of await Promise.all(holding)) expect((a as RawAnswer).status).toBe(408);
    const body = JSON.stringify({ name: 'after the budget' });
    const after = await raw(port, postHead('/api/v1/projects', Buffer.byteLength(body), key) + body);
    expect((after as RawAnswer).status).toBe(201);
  });

  it('times out a body that stalls, and one that trickles past the deadline, with 408 JSON', async () => {
    const key = { 'x-api-key': runtime.apiKey! };
    const started = Date.now();
    const stalled = await raw(port, postHead('/api/v1/projects', 100, key) + '{"name":', { waitMs: 5_000 });
    expect(stalled).not.toBe('no answer');
    expect({ status: (stalled as RawAnswer).status, code: (stalled as RawAnswer).body.error.code }).toEqual({
      status: 408,
      code: 'REQUEST_TIMEOUT',
    });
    expect(Date.now() - started).toBeLessThan(2_500);
    // A byte every 300 ms never trips the idle limit; the whole body's deadline (3 s) ends it.
    const trickle = await raw(port, postHead('/api/v1/projects', 100, key), {
      sendBytes: 100,
      chunk: 1,
      pauseMs: 300,
      waitMs: 8_000,
    });
    expect({ status: (trickle as RawAnswer).status, code: (trickle as RawAnswer).body?.error?.code }).toEqual({
      status: 408,
      code: 'REQUEST_TIMEOUT',
    });
    expect((trickle as RawAnswer).sent).toBeLessThan(100);
  });

  it('answers a 100 KB header with 431 JSON and 10,000 query parameters with 414 JSON', async () => {
    const header = await raw(
      port,
      `GET /api/v1/projects HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${runtime.apiKey}\r\nx-big: ${'a'.repeat(100_000)}\r\n\r\n`,
    );
    expect({ status: (header as RawAnswer).status, code: (header as RawAnswer).body?.error?.code }).toEqual({
      status: 431,
      code: 'HEADERS_TOO_LARGE',
    });
    expect((header as RawAnswer).headers).toMatch(/content-type: application\/json/i);
    const query = Array.from({ length: 10_000 }, (_, i) => `p${i}=${i}`).join('&');
    const long = await raw(
      port,
      `GET /api/v1/projects?${query} HTTP/1.1\r\nhost: 127.0.0.1\r\nx-api-key: ${runtime.apiKey}\r\n\r\n`,
    );
    expect({ status: (long as RawAnswer).status, code: (long as RawAnswer).body?.error?.code }).toEqual({
      status: 414,
      code: 'URI_TOO_LONG',
    });
    const garbage = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect({ status: (garbage as RawAnswer).status, code: (garbage as RawAnswer).body?.error?.code }).toEqual({
      status: 400,
      code: 'BAD_REQUEST',
    });
    expect((await fetch(`${runtime.url}/health`)).status).toBe(200);
  });

  describe('validation', () => {
    let p: string;
    let q: string;
    const call = async (path: string, init: RequestInit = {}) => {
      const response = await fetch(`${runtime.url}${path}`, {
        ...init,
        headers: { 'x-api-key': runtime.apiKey!, ...(init.headers as Record<string, string>) },
      });
      const text = await response.text();
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        // the assertion shows the text
      }
      return { status: response.status, body };
    };
    const json = (method: string, path: string, body: string) =>
      call(path, { method, headers: { 'content-type': 'application/json' }, body });
    const form = (fields: [string, string][], file = 'file') => {
      const f = new FormData();
      for (const [k, v] of fields) f.append(k, v);
      f.append(file, new Blob([Buffer.from('not an image')]), 'a.jpg');
      return f;
    };
    const expectError = (answer: { status: number; body: any }, status: number, code: string) =>
      expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({ status, code });

    beforeAll(async () => {
      p = (await json('POST', '/api/v1/projects', JSON.stringify({ name: 'edge P' }))).body.id;
      q = (await json('POST', '/api/v1/projects', JSON.stringify({ name: 'edge Q' }))).body.id;
    });

    it('refuses thresholds and band bounds below what a score setting takes (and DynamoDB stores), before any work', async () => {
      const tiny = await json('PATCH', `/api/v1/projects/${p}`, '{"threshold": 5e-324}');
      expectError(tiny, 400, 'VALIDATION_FAILED');
      expect(tiny.body.error.message).toContain('0.000001');
      expectError(
        await json(
          'PATCH',
          `/api/v1/projects/${p}`,
          JSON.stringify({ severityBands: [{ name: 'a', below: 1e-200 }, { name: 'b' }] }),
        ),
        400,
        'VALIDATION_FAILED',
      );
      expectError(
        await json('POST', '/api/v1/projects', '{"name": "tiny", "threshold": 1e-131}'),
        400,
        'VALIDATION_FAILED',
      );
      const detect = await call(`/api/v1/projects/${p}/detect`, {
        method: 'POST',
        body: form([['threshold', '1e-200']]),
      });
      expectError(detect, 400, 'VALIDATION_FAILED');
      expect(detect.body.error.message).toContain('threshold');
      expect((await runtime.services.objects.list(`results/${p}/`)).objects).toEqual([]);
      // the ends of the range are taken and kept exactly
      const edge = await json(
        'PATCH',
        `/api/v1/projects/${p}`,
        JSON.stringify({
          threshold: 0.000001,
          severityBands: [{ name: 'a', below: 0.000001 }, { name: 'b', below: 1 }, { name: 'c' }],
        }),
      );
      expect(edge.status).toBe(200);
      expect(edge.body.threshold).toBe(0.000001);
    });

    it('refuses a forged, altered or foreign page cursor with 400 INVALID_CURSOR on every paged listing', async () => {
      const forged = Buffer.from(JSON.stringify({ pk: `PROJECT#${q}`, sk: 'x' })).toString('base64url');
      for (const path of [
        `/api/v1/projects/${p}/results`,
        `/api/v1/projects/${p}/jobs`,
        `/api/v1/projects/${p}/images`,
        '/api/v1/projects',
      ]) {
        expectError(await call(`${path}?cursor=${forged}`), 400, 'INVALID_CURSOR');
      }
      const first = await call('/api/v1/projects?limit=1');
      expect(first.body.cursor).toEqual(expect.any(String));
      expect((await call(`/api/v1/projects?limit=1&cursor=${first.body.cursor}`)).status).toBe(200);
      const cursor: string = first.body.cursor;
      const altered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
      expectError(await call(`/api/v1/projects?cursor=${altered}`), 400, 'INVALID_CURSOR');
      // a genuine cursor of another listing (the projects) is refused on a project's images
      expectError(await call(`/api/v1/projects/${q}/images?cursor=${cursor}`), 400, 'INVALID_CURSOR');
    });

    it('refuses unknown multipart fields by name, and fields past the limits instead of dropping or cutting them', async () => {
      const dummies = Array.from({ length: 25 }, (_, i): [string, string] => [`dummy${i}`, 'x']);
      const many = await call(`/api/v1/projects/${p}/detect`, {
        method: 'POST',
        body: form([...dummies, ['threshold', '0.99']]),
      });
      expectError(many, 413, 'TOO_MANY_FIELDS');
      const typo = await call(`/api/v1/projects/${p}/detect`, { method: 'POST', body: form([['treshold', '0.9']]) });
      expectError(typo, 400, 'UNKNOWN_FIELD');
      expect(typo.body.error.message).toContain('"treshold"');
      expectError(
        await call(`/api/v1/projects/${p}/detect`, {
          method: 'POST',
          body: form([['threshold', `0.9${'0'.repeat(2000)}`]]),
        }),
        413,
        'FIELD_TOO_LARGE',
      );
      expectError(
        await call(`/api/v1/projects/${p}/images`, { method: 'POST', body: form([['note', 'x']], 'files') }),
        400,
        'UNKNOWN_FIELD',
      );
      expectError(
        await call('/api/v1/detect-anomaly', { method: 'POST', body: form([['extra', '1']]) }),
        400,
        'UNKNOWN_FIELD',
      );
      expectError(
        await call('/api/v1/batch-detect', { method: 'POST', body: form([['extra', '1']], 'files') }),
        400,
        'UNKNOWN_FIELD',
      );
    });

    it('refuses ill-formed Unicode (a lone surrogate) in JSON bodies and form fields; takes proper pairs', async () => {
      const lone = await json('POST', '/api/v1/projects', '{"name": "a \\ud800 b"}');
      expectError(lone, 400, 'VALIDATION_FAILED');
      expect(lone.body.error.details.issues[0].path).toBe('name');
      expectError(
        await json('PATCH', `/api/v1/projects/${p}`, '{"description": "x\\udc00"}'),
        400,
        'VALIDATION_FAILED',
      );
      expectError(await json('POST', '/api/v1/api-keys', '{"name": "\\ud83d"}'), 400, 'VALIDATION_FAILED');
      const made = await json('POST', '/api/v1/projects', '{"name": "a \\ud83d\\ude00 b"}');
      expect(made.status).toBe(201);
      expect(
        (await call(`/api/v1/projects/${made.body.id}?confirm=${encodeURIComponent('a 😀 b')}`, { method: 'DELETE' }))
          .status,
      ).toBe(200);
    });
  });
});
