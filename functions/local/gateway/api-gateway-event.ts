import type { APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * The event API Gateway HTTP APIs hand a Lambda function (payload format 2.0), built from a plain HTTP request, so
 * the service's API handlers run locally on the same input they get in AWS.
 */

export interface RequestFacts {
  method: string;
  /** The request target as received: path and query string. */
  url: string;
  /** Node's rawHeaders: name, value, name, value... (keeps repeated headers apart). */
  rawHeaders: string[];
  sourceIp: string;
  /** Undefined or empty: no body. */
  body?: Buffer;
  routeKey: string;
  pathParameters?: Record<string, string>;
  requestId: string;
  now?: Date;
  httpVersion?: string;
  /** What the authorizer said about the caller (requestContext.authorizer), when one ran. */
  authorizer?: Record<string, unknown>;
}

// API Gateway base64-encodes every body it does not take for text; images and multipart forms included.
const TEXT_TYPES = new Set([
  'application/json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/javascript',
  'application/graphql',
]);

/** Whether API Gateway would pass a body of this Content-Type as a plain string. */
export function isTextContentType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type.startsWith('text/') || TEXT_TYPES.has(type) || type.endsWith('+json') || type.endsWith('+xml');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** requestContext.time: '12/Mar/2020:19:03:58 +0000'. */
export const requestTime = (d: Date): string =>
  `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Repeated query keys joined by ','; values percent-decoded ('+' is left as it is, as API Gateway does). */
function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (const pair of rawQueryString.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    params[key] = key in params ? `${params[key]},${value}` : value;
  }
  return Object.keys(params).length ? params : undefined;
}

/** Lower-case names, repeats joined by ','. Cookie headers do not appear: their cookies go to `cookies`. */
export function eventHeaders(rawHeaders: string[]): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'cookie')
      cookies.push(
        ...value
          .split(';')
          .map((c) => c.trim())
          .filter(Boolean),
      );
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies };
}

export function buildEvent(facts: RequestFacts): APIGatewayProxyEventV2 {
  const now = facts.now ?? new Date();
  const queryAt = facts.url.indexOf('?');
  const rawPath = queryAt < 0 ? facts.url : facts.url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : facts.url.slice(queryAt + 1);

  const { headers, cookies } = eventHeaders(facts.rawHeaders);

  const host = headers.host ?? '';
  const hostname = host.replace(/:\d+$/, '');
  const body = facts.body?.length ? facts.body : undefined;
  const isBase64Encoded = body !== undefined && !isTextContentType(headers['content-type']);

  const query = queryParameters(rawQueryString);
  // Absent, not undefined, where API Gateway leaves a field out (a handler may test `'cookies' in event`).
  return {
    version: '2.0',
    routeKey: facts.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(query ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: host,
      domainPrefix: hostname.split('.')[0] ?? '',
      http: {
        method: facts.method,
        path: rawPath,
        protocol: `HTTP/${facts.httpVersion ?? '1.1'}`,
        sourceIp: facts.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: facts.requestId,
      routeKey: facts.routeKey,
      ...(facts.authorizer ? { authorizer: facts.authorizer } : {}),
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body ? { body: body.toString(isBase64Encoded ? 'base64' : 'utf8') } : {}),
    ...(facts.pathParameters ? { pathParameters: facts.pathParameters } : {}),
    isBase64Encoded,
  };
}
