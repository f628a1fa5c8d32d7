/**
 * Route matching as API Gateway HTTP APIs do it: `{name}` takes one path segment, a last `{name+}` takes the rest
 * (one segment or more), and of the routes that fit, the most specific wins (a literal segment over `{name}` over
 * `{name+}`). A path that fits only routes of other methods is told which methods it has.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

type Segment = { kind: 'literal'; text: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

interface CompiledRoute<R> {
  route: R;
  method: HttpMethod;
  routeKey: string;
  segments: Segment[];
}

export type RouteMatch<R> =
  | { kind: 'found'; route: R; routeKey: string; pathParameters?: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: HttpMethod[] }
  | { kind: 'not-found' };

const RANK = { literal: 2, param: 1, greedy: 0 } as const;

function parseSegment(text: string, path: string, last: boolean): Segment {
  const param = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(text);
  if (!param) {
    if (/[{}]/.test(text)) throw new Error(`route ${path}: a path parameter must be a whole segment, like {name}`);
    return { kind: 'literal', text };
  }
  if (!param[2]) return { kind: 'param', name: param[1] as string };
  if (!last) throw new Error(`route ${path}: a greedy parameter {${param[1]}+} must be the last segment`);
  return { kind: 'greedy', name: param[1] as string };
}

// Malformed escapes stay as they came; API Gateway does not refuse such paths either.
const decode = (text: string): string => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** Which of two fitting routes is more specific: compared segment by segment. */
const moreSpecific = (a: Segment[], b: Segment[]): number => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ? RANK[a[i]!.kind] : -1) - (b[i] ? RANK[b[i]!.kind] : -1);
    if (diff) return diff;
  }
  return 0;
};

export class RouteTable<R extends { method: HttpMethod; path: string }> {
  private readonly compiled: CompiledRoute<R>[];

  constructor(routes: R[]) {
    const keys = new Set<string>();
    this.compiled = routes.map((route) => {
      if (!route.path.startsWith('/')) throw new Error(`route ${route.path}: a path starts with /`);
      const parts = route.path.split('/').slice(1);
      const routeKey = `${route.method} ${route.path}`;
      if (keys.has(routeKey)) throw new Error(`route ${routeKey} is defined twice`);
      keys.add(routeKey);
      return {
        route,
        method: route.method,
        routeKey,
        segments: parts.map((p, i) => parseSegment(p, route.path, i === parts.length - 1)),
      };
    });
  }

  match(method: string, rawPath: string): RouteMatch<R> {
    const parts = rawPath.split('/').slice(1);
    const fitting = this.compiled
      .map((c) => ({ c, params: fit(c.segments, parts) }))
      .filter((f): f is { c: CompiledRoute<R>; params: Record<string, string> } => f.params !== undefined);
    if (!fitting.length) return { kind: 'not-found' };
    const best = fitting
      .filter((f) => f.c.method === method)
      .sort((x, y) => moreSpecific(y.c.segments, x.c.segments))[0];
    if (!best) return { kind: 'method-not-allowed', allow: [...new Set(fitting.map((f) => f.c.method))].sort() };
    const names = Object.keys(best.params);
    return {
      kind: 'found',
      route: best.c.route,
      routeKey: best.c.routeKey,
      pathParameters: names.length ? best.params : undefined,
    };
  }
}

/** The (decoded) parameters when the path's segments fit the route's, else undefined. */
function fit(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Segment;
    const part = parts[i];
    if (segment.kind === 'greedy') {
      const rest = parts.slice(i);
      if (!rest.length || rest.every((p) => p === '')) return undefined;
      params[segment.name] = rest.map(decode).join('/');
      return params;
    }
    if (part === undefined) return undefined;
    if (segment.kind === 'literal') {
      if (decode(part) !== segment.text) return undefined;
    } else {
      if (part === '') return undefined;
      params[segment.name] = decode(part);
    }
  }
  return parts.length === segments.length ? params : undefined;
}
