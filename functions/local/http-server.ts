import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { buildEvent } from './api-gateway-event.ts';
import { lambdaContext } from './lambda-context.ts';
import { type RateLimit, RateLimiter } from './rate-limiter.ts';
import { closeServer, endpointUrl, listen } from './listen.ts';
import { readBody } from './request-body.ts';
import { type HttpMethod, RouteTable } from './routes.ts';

/**
 * The service's Lambda API handlers behind a local HTTP server, the way an API Gateway HTTP API (payload format
 * 2.0) calls them: same event in, same result shape out, so one handler serves both.
 */

export { buildEvent, isTextContentType, type RequestFacts } from './api-gateway-event.ts';

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApiRoute {
  method: HttpMethod;
  /** e.g. '/api/v1/projects/{projectId}/detect'; a last '{proxy+}' takes the rest of the path. */
  path: string;
  handler: ApiHandler;
}

export interface HttpServerOptions {
  host: string;
  /** 0 = a free port. */
  port: number;
  routes: ApiRoute[];
  /** Larger bodies: 413 JSON error, without reading the rest. */
  maxBodyBytes: number;
  /** Requests per client address (429 with Retry-After beyond it); unset or rate 0: no limit. */
  rateLimit?: RateLimit;
  /** Tried when no route matches (static files); true = handled. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /**
   * One access-log object per request (method, path, status, ms, requestId), and one per handler failure. Without
   * it, no access log, and failures go to stderr as JSON lines.
   */
  log?: (line: Record<string, unknown>) => void;
}

export interface LocalHttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

// API Gateway gives an integration at most 30 s; handlers see that in getRemainingTimeInMillis().
const INTEGRATION_TIMEOUT_MS = 30_000;

/** A JSON error with the service's error body, all other headers dropped (a failed handler may have set some). */
function sendError(res: ServerResponse, status: number, code: string, message: string, requestId: string, headers: Record<string, string> = {}): void {
  for (const name of res.getHeaderNames()) if (name !== 'x-request-id') res.removeHeader(name);
  const body = JSON.stringify({ error: { code, message, requestId } });
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Writes a handler's result. As API Gateway does with format 2.0, a result that is not a {statusCode, ...} object
 * is taken for a 200 JSON body.
 */
function sendResult(res: ServerResponse, result: unknown): void {
  const structured: APIGatewayProxyStructuredResultV2 =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: typeof result === 'string' ? result : JSON.stringify(result) };
  res.statusCode = structured.statusCode ?? 200;
  for (const [name, value] of Object.entries(structured.headers ?? {})) res.setHeader(name, String(value));
  if (structured.cookies?.length) res.setHeader('set-cookie', structured.cookies);
  const body = Buffer.from(structured.body ?? '', structured.isBase64Encoded ? 'base64' : 'utf8');
  res.setHeader('content-length', body.length);
  res.end(body);
}

export async function startHttpServer(o: HttpServerOptions): Promise<LocalHttpServer> {
  const table = new RouteTable(o.routes);
  const log = o.log ?? (() => undefined);
  const logFailure = o.log ?? ((line: Record<string, unknown>) => console.error(JSON.stringify(line)));
  const limiter = new RateLimiter(o.rateLimit ?? { rate: 0, burst: 0 });

  const handle = async (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean): Promise<void> => {
    const started = performance.now();
    const requestId = randomUUID();
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] as string;
    res.setHeader('x-request-id', requestId);
    let logged = false;
    const accessLog = () => {
      if (logged) return;
      logged = true;
      log({ method, path, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10, requestId });
    };
    res.once('finish', accessLog).once('close', accessLog);

    try {
      const wait = limiter.take(req.socket.remoteAddress ?? 'unknown');
      if (wait > 0) return sendError(res, 429, 'TOO_MANY_REQUESTS', `too many requests from this address: at most ${o.rateLimit!.rate} a second (bursts of ${o.rateLimit!.burst}); retry in ${wait} s`, requestId, { 'retry-after': String(wait) });
      const match = table.match(method, path);
      if (match.kind === 'method-not-allowed') {
        return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}`, requestId, { allow: match.allow.join(', ') });
      }
      if (match.kind === 'not-found') {
        if (o.fallback && (await o.fallback(req, res))) return;
        return sendError(res, 404, 'ROUTE_NOT_FOUND', `no route for ${method} ${path}`, requestId);
      }

      // A declared length over the limit is refused before a byte of the body is read (or a 100 Continue sent).
      const tooLarge = () => sendError(res, 413, 'PAYLOAD_TOO_LARGE', `the request body is larger than ${o.maxBodyBytes} bytes`, requestId, { connection: 'close' });
      if (Number(req.headers['content-length'] ?? 0) > o.maxBodyBytes) return tooLarge();
      if (expectsContinue) res.writeContinue();
      const body = await readBody(req, o.maxBodyBytes);
      if (body === 'too-large') return tooLarge();

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
      });
      sendResult(res, await match.route.handler(event, lambdaContext(requestId, INTEGRATION_TIMEOUT_MS)));
    } catch (error) {
      logFailure({ level: 'error', msg: 'request failed', method, path, requestId, error: error instanceof Error ? error.stack : String(error) });
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'INTERNAL_ERROR', 'internal error', requestId);
    }
  };

  const server = createServer((req, res) => void handle(req, res, false));
  // Without this listener Node answers "100 Continue" itself, inviting a body that may be refused.
  server.on('checkContinue', (req, res) => void handle(req, res, true));

  const port = await listen(server, o.port, o.host, 'local HTTP server');
  return { url: endpointUrl(o.host, port), port, close: () => closeServer(server) };
}
