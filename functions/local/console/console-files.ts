import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { consoleSecurityHeaders } from './security-headers.ts';
import { fileUnder, sendFile, sendText } from './send-file.ts';

export interface ConsoleFilesOptions {
  /** The built console (console/dist). */
  dir: string;
  /** Origin of the S3 endpoint that presigned URLs point to, allowed for images and uploads. */
  s3Origin?: string;
  /** Whether the API wants a key (FAULTLINE_AUTH=api-key): the console asks for one. */
  authRequired: boolean;
  /** People sign in with this OpenID Connect issuer; the console's page may then talk to it. */
  oidc?: OidcConsoleConfig;
}

/** What /config.json tells the console about sign-in with an issuer (console/src/api/config.ts reads it). */
export interface OidcConsoleConfig {
  authority: string;
  clientId: string;
}

/** Paths that belong to the API or its documentation: never answered with the console's page. */
const NOT_CONSOLE = /^\/(api|docs)(\/|$)|^\/(openapi\.json|health)$/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultline</title></head>
<body><h1>Faultline</h1><p>The web console is not built: run <code>npm run build:console</code> and reload.</p>
<ul><li><a href="/docs">API documentation</a></li><li><a href="/openapi.json">OpenAPI document</a></li></ul></body></html>`;

/**
 * The web console: its hashed assets (cached for a year), index.html for every other page path so that the
 * console's own routes work on reload (never cached), and /config.json telling it the API is at this origin.
 */
export function consoleFiles(o: ConsoleFilesOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const security = consoleSecurityHeaders(o.s3Origin, o.oidc ? [new URL(o.oidc.authority).origin] : []);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (NOT_CONSOLE.test(path)) return false;
    if (path === '/config.json')
      return sendText(
        req,
        res,
        'application/json',
        JSON.stringify({ apiUrl: '', authRequired: o.authRequired, oidc: o.oidc }),
        {
          'cache-control': 'no-cache',
        },
      );
    if (path.startsWith('/assets/')) {
      const asset = fileUnder(o.dir, path.slice(1));
      return asset ? sendFile(req, res, asset, { 'cache-control': 'public, max-age=31536000, immutable' }) : false;
    }
    const file = path === '/' ? undefined : fileUnder(o.dir, path.slice(1));
    if (file && !file.endsWith('.html')) return sendFile(req, res, file, { 'cache-control': 'public, max-age=3600' });
    const index = fileUnder(o.dir, 'index.html');
    if (!index) return sendText(req, res, 'text/html; charset=utf-8', NOT_BUILT, { 'cache-control': 'no-cache' }, 503);
    return sendFile(req, res, index, { 'cache-control': 'no-cache', ...security });
  };
}

export const defaultConsoleDir = (root: string): string => join(root, 'console', 'dist');
