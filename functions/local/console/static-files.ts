import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { projectRoot } from '../../engine/paths.ts';
import { consoleFiles, defaultConsoleDir, type OidcConsoleConfig } from './console-files.ts';
import { fileUnder, sendFile, sendText } from './send-file.ts';

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultline API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });`;

/** The API documentation page at /docs (Swagger UI from the swagger-ui-dist package: no CDN). */
export function docsFiles(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const swaggerDir = createRequire(import.meta.url)
    .resolve('swagger-ui-dist/package.json')
    .replace(/package\.json$/, '');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    if (path === '/docs' || path === '/docs/') return sendText(req, res, 'text/html; charset=utf-8', DOCS_PAGE);
    if (path === '/docs/init.js') return sendText(req, res, 'text/javascript; charset=utf-8', INIT_SCRIPT);
    if (!path.startsWith('/docs/')) return false;
    const file = fileUnder(swaggerDir, path.slice('/docs/'.length));
    return file ? sendFile(req, res, file, { 'cache-control': 'public, max-age=3600' }) : false;
  };
}

export interface StaticFilesOptions {
  /** The built web console; default console/dist in the project. */
  consoleDir?: string;
  /** Origin of the S3 endpoint presigned URLs point to (the console's images and uploads). */
  s3Origin?: string;
  /** Whether the API wants a key; the console asks for one. Default true. */
  authRequired?: boolean;
  /** People sign in with this OpenID Connect issuer (console/src/auth/oidc.ts). */
  oidc?: OidcConsoleConfig;
}

/** Everything the local runtime serves besides the API: the API documentation and the web console. */
export function staticFiles(o: StaticFilesOptions = {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const handlers = [
    docsFiles(),
    consoleFiles({
      dir: o.consoleDir ?? defaultConsoleDir(projectRoot()),
      s3Origin: o.s3Origin,
      authRequired: o.authRequired ?? true,
      oidc: o.oidc,
    }),
  ];
  return (req, res) => handlers.some((handle) => handle(req, res));
}
