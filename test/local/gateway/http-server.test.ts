import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiRoute,
  buildEvent,
  type LocalHttpServer,
  startHttpServer,
} from '../../../functions/local/gateway/http-server.ts';

const MAX_BODY = 64 * 1024;
// The 8-byte PNG signature and a little more: enough to tell raw bytes from base64 text.
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(200)]);

const json = (statusCode: number, body: unknown) => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const routes: ApiRoute[] = [
  {
    method: 'GET',
    path: '/api/v1/projects/{projectId}',
    handler: async (event, context) =>
      json(200, { event, awsRequestId: context.awsRequestId, remaining: context.getRemainingTimeInMillis() }),
  },
  { method: 'DELETE', path: '/api/v1/projects/{projectId}', handler: async () => ({ statusCode: 204 }) },
  { method: 'GET', path: '/api/v1/projects/special', handler: async () => json(200, { special: true }) },
  { method: 'POST', path: '/api/v1/projects/{projectId}/detect', handler: async (event) => json(200, { event }) },
  {
    // Echoes the body it was given, decoded as a handler would, back as bytes.
    method: 'PUT',
    path: '/api/v1/projects/{projectId}/images/{imageName}',
    handler: async (event) => {
      const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/octet-stream', 'x-was-base64': String(event.isBase64Encoded) },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      };
    },
  },
  {
    method: 'GET',
    path: '/api/v1/heatmap.png',
    handler: async () => ({
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: PNG.toString('base64'),
      isBase64Encoded: true,
    }),
  },
  {
    method: 'GET',
    path: '/api/v1/session',
    handler: async () => ({ statusCode: 200, cookies: ['a=1; Path=/', 'b=2; HttpOnly'], body: 'ok' }),
  },
  {
    method: 'GET',
    path: '/api/v1/boom',
    handler: async () => {
      throw new Error('secret database password in /srv/app/internal.ts');
    },
  },
  {
    method: 'GET',
    path: '/files/{proxy+}',
    handler: async (event) => json(200, { pathParameters: event.pathParameters }),
  },
];

let server: LocalHttpServer;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = await startHttpServer({
    host: '127.0.0.1',
    port: 0,
    routes,
    maxBodyBytes: MAX_BODY,
    log: (line) => logLines.push(line),
    fallback: (req, res) => {
      if (req.url !== '/index.html') return false;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>faultline</h1>');
      return true;
    },
  });
});

afterAll(async () => {
  await server?.close();
});

/** A raw request with node:http, which (unlike fetch) can repeat a header and send cookies. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body?: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const eventOf = async (response: Response): Promise<APIGatewayProxyEventV2> =>
  ((await response.json()) as { event: APIGatewayProxyEventV2 }).event;

describe('local HTTP server for API Gateway (HTTP API, payload 2.0) handlers', () => {
  it('builds the event as API Gateway does: route key, path parameters, query, headers, cookies, request context', async () => {
    const res = await rawRequest('GET', '/api/v1/projects/p%20one?tag=a&tag=b&empty=&q=x%2By', {
      'x-tag': ['red', 'blue'],
      'User-Agent': 'vitest-agent',
      cookie: 'session=abc; theme=dark',
    });
    expect(res.status).toBe(200);
    const { event, awsRequestId, remaining } = JSON.parse(res.body.toString()) as {
      event: APIGatewayProxyEventV2;
      awsRequestId: string;
      remaining: number;
    };
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /api/v1/projects/{projectId}',
      rawPath: '/api/v1/projects/p%20one',
      rawQueryString: 'tag=a&tag=b&empty=&q=x%2By',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { tag: 'a,b', empty: '', q: 'x+y' },
      pathParameters: { projectId: 'p one' },
      isBase64Encoded: false,
      requestContext: {
        accountId: 'local',
        apiId: 'local',
        domainName: `127.0.0.1:${server.port}`,
        domainPrefix: '127',
        http: {
          method: 'GET',
          path: '/api/v1/projects/p%20one',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'vitest-agent',
        },
        routeKey: 'GET /api/v1/projects/{projectId}',
        stage: '$default',
      },
    });
    expect(event.headers['x-tag']).toBe('red,blue');
    expect(event.headers['user-agent']).toBe('vitest-agent');
    expect(event.headers.cookie).toBeUndefined();
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.body).toBeUndefined();
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['x-request-id']).toBe(event.requestContext.requestId);
    expect(awsRequestId).toBe(event.requestContext.requestId);
    expect(remaining).toBeGreaterThan(25_000);
  });

  it('prefers a literal segment over a parameter, and gives a greedy parameter the rest of the path', async () => {
    expect(await (await fetch(`${server.url}/api/v1/projects/special`)).json()).toEqual({ special: true });
    const greedy = await fetch(`${server.url}/files/a/b%20c/d.png`);
    expect(await greedy.json()).toEqual({ pathParameters: { proxy: 'a/b c/d.png' } });
  });

  it('passes JSON and form bodies as text, binary and multipart bodies as base64', async () => {
    const payload = { threshold: 0.5, note: 'żółw' };
    const jsonEvent = await eventOf(
      await fetch(`${server.url}/api/v1/projects/p1/detect`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify(payload),
      }),
    );
    expect(jsonEvent.isBase64Encoded).toBe(false);
    expect(JSON.parse(jsonEvent.body as string)).toEqual(payload);
    expect(jsonEvent.pathParameters).toEqual({ projectId: 'p1' });
    expect(jsonEvent.queryStringParameters).toBeUndefined();

    const formEvent = await eventOf(
      await fetch(`${server.url}/api/v1/projects/p1/detect`, {
        method: 'POST',
        body: new URLSearchParams({ a: '1 2' }),
      }),
    );
    expect(formEvent).toMatchObject({ isBase64Encoded: false, body: 'a=1+2' });

    const form = new FormData();
    form.append('image', new Blob([PNG], { type: 'image/png' }), 'x.png');
    const multipartEvent = await eventOf(
      await fetch(`${server.url}/api/v1/projects/p1/detect`, { method: 'POST', body: form }),
    );
    expect(multipartEvent.isBase64Encoded).toBe(true);
    expect(Buffer.from(multipartEvent.body as string, 'base64').includes(PNG)).toBe(true);
  });

  it('delivers a binary body that the handler decodes back byte for byte', async () => {
    const bytes = randomBytes(MAX_BODY - 1);
    const res = await fetch(`${server.url}/api/v1/projects/p1/images/a.png`, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: bytes,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-was-base64')).toBe('true');
    const back = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('sends a base64-encoded handler result as raw bytes, and cookies as Set-Cookie headers', async () => {
    const res = await fetch(`${server.url}/api/v1/heatmap.png`);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);

    const session = await fetch(`${server.url}/api/v1/session`);
    expect(session.headers.getSetCookie()).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(await session.text()).toBe('ok');
  });

  it('answers an unknown path with 404 JSON, after the fallback declined it', async () => {
    const res = await fetch(`${server.url}/api/v1/nothing-here`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string; requestId: string } };
    expect(body.error).toMatchObject({
      code: 'ROUTE_NOT_FOUND',
      message: expect.stringContaining('/api/v1/nothing-here'),
    });
    expect(res.headers.get('x-request-id')).toBe(body.error.requestId);

    const page = await fetch(`${server.url}/index.html`);
    expect(page.status).toBe(200);
    expect(await page.text()).toBe('<h1>faultline</h1>');
    expect(page.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers a known path with another method with 405 and Allow', async () => {
    const res = await fetch(`${server.url}/api/v1/projects/p1`, { method: 'PATCH', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE, GET');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('refuses a body over the limit with 413, declared or streamed', async () => {
    const declared = await rawRequest(
      'PUT',
      '/api/v1/projects/p1/images/big.png',
      { 'content-type': 'image/png' },
      randomBytes(MAX_BODY + 1),
    );
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body.toString()).error.code).toBe('PAYLOAD_TOO_LARGE');

    // No Content-Length (chunked): counted while read, refused once past the limit.
    const chunks = Array.from({ length: 8 }, () => randomBytes(16 * 1024));
    const streamed = await fetch(`${server.url}/api/v1/projects/p1/images/big.png`, {
      method: 'PUT',
      headers: { 'content-type': 'image/png' },
      body: Readable.toWeb(Readable.from(chunks)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('turns a throwing handler into a 500 that says nothing internal, and logs the stack', async () => {
    const res = await fetch(`${server.url}/api/v1/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    const requestId = res.headers.get('x-request-id');
    expect(JSON.parse(text)).toEqual({ error: { code: 'INTERNAL_ERROR', message: 'internal error', requestId } });
    expect(text).not.toContain('secret');
    expect(text).not.toContain('internal.ts');
    const failure = logLines.find((l) => l.requestId === requestId && l.level === 'error');
    expect(String(failure?.error)).toContain('secret database password');
    expect(logLines).toContainEqual(
      expect.objectContaining({ method: 'GET', path: '/api/v1/boom', status: 500, requestId, ms: expect.any(Number) }),
    );
  });

  it('exports the event builder: fields API Gateway leaves out are absent', () => {
    const event = buildEvent({
      method: 'GET',
      url: '/health',
      rawHeaders: ['Host', 'localhost:3000'],
      sourceIp: '::1',
      routeKey: 'GET /health',
      requestId: 'r-1',
      now: new Date(Date.UTC(2020, 2, 12, 19, 3, 58)),
    });
    expect(event.requestContext.time).toBe('12/Mar/2020:19:03:58 +0000');
    expect(event.requestContext.domainPrefix).toBe('localhost');
    for (const field of ['cookies', 'queryStringParameters', 'pathParameters', 'body'])
      expect(field in event).toBe(false);
    expect(event.isBase64Encoded).toBe(false);
  });
});
