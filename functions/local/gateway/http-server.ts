import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { buildEvent, eventHeaders } from './api-gateway-event.ts';
import { lambdaContext } from './lambda-context.ts';
import { type RateLimit, RateLimiter } from './rate-limiter.ts';
import { closeServer, endpointUrl, listen } from '../listen.ts';
import { ByteBudget, readBody } from './request-body.ts';
import { type HttpMethod, RouteTable } from './route-matcher.ts';

/**
 * The service's Lambda API handlers behind a local HTTP server, the way an API Gateway HTTP API (payload format
 * 2.0) calls them: same event in, same result shape out, so one handler serves both.
 */

export { buildEvent, isTextContentType, type RequestFacts } from './api-gateway-event.ts';

export type ApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * What API Gateway's authorizer does, before the integration: from the request's headers (lower-case names), either
 * the context the handler sees in requestContext.authorizer, or the answer that refuses the request.
 */
export type RouteAuthorizer = (
  headers: Record<string, string>,
  requestId: string,
  /** The peer's address, as API Gateway's requestContext.http.sourceIp. */
  sourceIp: string,
) => Promise<{ authorizer: Record<string, unknown> } | { refusal: APIGatewayProxyStructuredResultV2 }>;

export interface ApiRoute {
  method: HttpMethod;
  /** e.g. '/api/v1/projects/{projectId}/detect'; a last '{proxy+}' takes the rest of the path. */
  path: string;
  handler: ApiHandler;
  /** Runs on the headers before a byte of the body is read; a refused request's body is never read. */
  authorize?: RouteAuthorizer;
  /**
   * An older contract's own error shape (a route's ErrorShape.render): the gateway's refusals of this route (401,
   * 429, 413, 408, 503) answer in it, as the route's own errors do, so its old clients read them.
   */
  renderError?: ErrorRenderer;
}

/** An error as a contract of its own renders it: its body, headers, and its status where it has its own. */
export type ErrorRenderer = (e: { status: number; code: string; message: string; requestId: string }) => {
  body: unknown;
  headers?: Record<string, string>;
  status?: number;
};

export interface HttpServerOptions {
  host: string;
  /** 0 = a free port. */
  port: number;
  routes: ApiRoute[];
  /** Larger bodies: 413 JSON error, without reading the rest. */
  maxBodyBytes: number;
  /** Bytes of bodies held at once across all requests (at least maxBodyBytes); beyond: 503 with Retry-After. */
  bodyBudgetBytes?: number;
  /** A body with no byte for this long, or not complete this long after its headers: 408. */
  bodyIdleMs?: number;
  bodyTimeoutMs?: number;
  /** Requests per client address (429 with Retry-After beyond it); unset or rate 0: no limit. */
  rateLimit?: RateLimit;
  /** Tried when no route matches (static files); true = handled. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /**
   * One access-log object per request (method, path, status, ms, requestId), and one per handler failure. Without
   * it, no access log, and failures go to stderr as JSON lines.
   */
  log?: (line: Record<string, unknown>) => void;
  /** Upgrade requests (the live feed's WebSockets); without it they are refused. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

export interface LocalHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

// API Gateway gives an integration at most 30 s; handlers see that in getRemainingTimeInMillis().
const INTEGRATION_TIMEOUT_MS = 30_000;

/** The service's JSON error body. */
const errorJson = (code: string, message: string, requestId: string): string =>
  JSON.stringify({ error: { code, message, requestId } });

/** A JSON error with the service's error body, all other headers dropped (a failed handler may have set some). */
function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string,
  headers: Record<string, string> = {},
  render?: ErrorRenderer,
): void {
  for (const name of res.getHeaderNames()) if (name !== 'x-request-id') res.removeHeader(name);
  const shaped = render?.({ status, code, message, requestId });
  const body = shaped ? JSON.stringify(shaped.body) : errorJson(code, message, requestId);
  res.writeHead(shaped?.status ?? status, {
    ...headers,
    ...shaped?.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/** An authorizer's refusal in the route's own error shape, when it has one and the refusal is the service's JSON. */
function shapedRefusal(
  refusal: APIGatewayProxyStructuredResultV2,
  requestId: string,
  render?: ErrorRenderer,
): APIGatewayProxyStructuredResultV2 {
  if (!render) return refusal;
  let error: { code?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(refusal.body ?? '') as { error?: typeof error }).error;
  } catch {
    return refusal;
  }
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') return refusal;
  const status = refusal.statusCode ?? 500;
  const shaped = render({ status, code: error.code, message: error.message, requestId });
  return {
    statusCode: shaped.status ?? status,
    headers: { ...refusal.headers, ...shaped.headers },
    body: JSON.stringify(shaped.body),
  };
}

/**
 * Writes a handler's result. As API Gateway does with format 2.0, a result that is not a {statusCode, ...} object
 * is taken for a 200 JSON body.
 */
function sendResult(res: ServerResponse, result: unknown): void {
  const structured: APIGatewayProxyStructuredResultV2 =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : {
          statusCode: 200,
          headers: { 'content-type': 'application/json' },
          body: typeof result === 'string' ? result : JSON.stringify(result),
        };
  res.statusCode = structured.statusCode ?? 200;
  for (const [name, value] of Object.entries(structured.headers ?? {})) res.setHeader(name, String(value));
  if (structured.cookies?.length) res.setHeader('set-cookie', structured.cookies);
  const body = Buffer.from(structured.body ?? '', structured.isBase64Encoded ? 'base64' : 'utf8');
  res.setHeader('content-length', body.length);
  res.end(body);
}

/** The status, code and message for a request Node's HTTP parser refused. */
function clientErrorAnswer(error: Error & { code?: string; rawPacket?: Buffer }): [number, string, string] {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    // The request line alone past the limit: the URL (its query string) is what is too long.
    const lineEnd = error.rawPacket?.indexOf('\r\n') ?? -1;
    if (lineEnd < 0) return [414, 'URI_TOO_LONG', 'the request line (path and query string) is over 16 KB'];
    return [431, 'HEADERS_TOO_LARGE', 'the request headers are over 16 KB in all'];
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time'];
  return [400, 'BAD_REQUEST', `malformed HTTP request (${error.code ?? 'parse error'})`];
}

export async function startHttpServer(o: HttpServerOptions): Promise<LocalHttpServer> {
  const table = new RouteTable(o.routes);
  const log = o.log ?? (() => undefined);
  const logFailure = o.log ?? ((line: Record<string, unknown>) => console.error(JSON.stringify(line)));
  const limiter = new RateLimiter(o.rateLimit ?? { rate: 0, burst: 0 });
  const budget = new ByteBudget(Math.max(o.bodyBudgetBytes ?? 8 * o.maxBodyBytes, o.maxBodyBytes));
  const bodyIdleMs = o.bodyIdleMs ?? 10_000;
  const bodyTimeoutMs = o.bodyTimeoutMs ?? 120_000;

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    const started = performance.now();
    const arrived = Date.now();
    // This request's share of the body budget, given back once it is answered.
    let held = 0;
    const hold = (total: number): boolean => {
      if (total <= held) return true;
      if (!budget.take(total - held)) return false;
      held = total;
      return true;
    };
    const requestId = randomUUID();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] as string;
    res.setHeader('x-request-id', requestId);
    let logged = false;
    const accessLog = () => {
      if (logged) return;
      logged = true;
      log({
        msg: 'access',
        method,
        path,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        requestId,
      });
    };
    res.once('finish', accessLog).once('close', accessLog);

    try {
      const match = table.match(method, path);
      const render = match.kind === 'found' ? match.route.renderError : undefined;
      const wait = limiter.take(req.socket.remoteAddress ?? 'unknown');
      if (wait > 0)
        return sendError(
          res,
          429,
          'TOO_MANY_REQUESTS',
          `too many requests from this address: at most ${o.rateLimit!.rate} a second (bursts of ${o.rateLimit!.burst}); retry in ${wait} s`,
          requestId,
          { 'retry-after': String(wait) },
          render,
        );
      // A browser's page load on a path that only POST routes have (the training backend's /projects, under the
      // console's own /projects/... pages) is the console's, not a wrong method.
      if (match.kind === 'method-not-allowed' && method === 'GET' && /text\/html/.test(req.headers.accept ?? ''))
        if (o.fallback && (await o.fallback(req, res))) return;
      if (match.kind === 'method-not-allowed') {
        return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, requestId, {
          allow: match.allow.join(', '),
        });
      }
      if (match.kind === 'not-found') {
        if (o.fallback && (await o.fallback(req, res))) return;
        return sendError(res, 404, 'ROUTE_NOT_FOUND', `no route for ${method} ${path}`, requestId);
      }

      // As API Gateway's authorizer: the caller is checked on the headers, and a refused request's body is never
      // read (nor a 100 Continue sent); the connection is closed after the answer.
      let authorizer: Record<string, unknown> | undefined;
      if (match.route.authorize) {
        const verdict = await match.route.authorize(
          eventHeaders(req.rawHeaders).headers,
          requestId,
          (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        );
        if ('refusal' in verdict) {
          const refusal = shapedRefusal(verdict.refusal, requestId, render);
          return sendResult(res, { ...refusal, headers: { ...refusal.headers, connection: 'close' } });
        }
        authorizer = verdict.authorizer;
      }

      // A declared length over the limit, or over what the shared budget has left, is refused before a byte is read.
      const tooLarge = () =>
        sendError(
          res,
          413,
          'PAYLOAD_TOO_LARGE',
          `the request body is larger than ${o.maxBodyBytes} bytes`,
          requestId,
          { connection: 'close' },
          render,
        );
      const busy = () =>
        sendError(
          res,
          503,
          'SERVER_BUSY',
          'too many request bodies in flight; retry shortly',
          requestId,
          { connection: 'close', 'retry-after': '1' },
          render,
        );
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > o.maxBodyBytes) return tooLarge();
      if (!hold(declared)) return busy();
      if (expectsContinue) res.writeContinue();
      const body = await readBody(req, {
        maxBytes: o.maxBodyBytes,
        hold,
        idleMs: bodyIdleMs,
        deadline: arrived + bodyTimeoutMs,
      });
      if (body === 'aborted') return;
      if (body === 'too-large') return tooLarge();
      if (body === 'over-budget') return busy();
      if (body === 'timeout')
        return sendError(
          res,
          408,
          'REQUEST_TIMEOUT',
          `the request body did not arrive in time (${bodyIdleMs / 1000} s without a byte, or ${bodyTimeoutMs / 1000} s in all)`,
          requestId,
          { connection: 'close' },
          render,
        );

      const event = buildEvent({
        method,
        url,
        rawHeaders: req.rawHeaders,
        sourceIp: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
        body,
        routeKey: match.routeKey,
        pathParameters: match.pathParameters,
        requestId,
        httpVersion: req.httpVersion,
        authorizer,
      });
      sendResult(res, await match.route.handler(event, lambdaContext(requestId, INTEGRATION_TIMEOUT_MS)));
    } catch (error) {
      logFailure({
        level: 'error',
        msg: 'request failed',
        method,
        path,
        requestId,
        error: error instanceof Error ? error.stack : String(error),
      });
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'INTERNAL_ERROR', 'internal error', requestId);
    } finally {
      budget.give(held);
      held = 0;
    }
  };

  const server = createServer((req, res) => void handle(req, res, false));
  // Without this listener Node answers "100 Continue" itself, inviting a body that may be refused.
  server.on('checkContinue', (req, res) => void handle(req, res, true));
  // Node's own limits, as a backstop behind readBody's: headers in 60 s (its default), the whole request in time.
  server.requestTimeout = bodyTimeoutMs + 5_000;
  server.headersTimeout = Math.min(60_000, server.requestTimeout);
  // Requests Node refuses before any handler runs (headers over its 16 KB, a malformed request line, too slow) get
  // the service's JSON error instead of a bare status line.
  server.on('clientError', (error: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => {
    if (
      error.code === 'ECONNRESET' ||
      !socket.writable ||
      (socket as { _httpMessage?: ServerResponse })._httpMessage?.headersSent
    )
      return socket.destroy();
    const requestId = randomUUID();
    const [status, code, message] = clientErrorAnswer(error);
    log({ msg: 'request refused by the HTTP parser', status, code, parserError: error.code, requestId });
    const body = errorJson(code, message, requestId);
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
    );
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (o.upgrade) return o.upgrade(req, socket, head);
    socket.destroy();
  });

  const port = await listen(server, o.port, o.host, 'local HTTP server');
  return { url: endpointUrl(o.host, port), port, close: () => closeServer(server) };
}
