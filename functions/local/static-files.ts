import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { extname, join, normalize } from 'node:path';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.json': 'application/json', '.map': 'application/json' };

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultline API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui', deepLinking: true });`;

/** The API documentation page at /docs (Swagger UI from the swagger-ui-dist package: no CDN). */
export function staticFiles(): (req: IncomingMessage, res: ServerResponse) => boolean {
  const swaggerDir = createRequire(import.meta.url).resolve('swagger-ui-dist/package.json').replace(/package\.json$/, '');
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const send = (type: string, body: string) => {
      res.writeHead(200, { 'content-type': type, 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    };
    if (path === '/docs' || path === '/docs/') return send(TYPES['.html'], DOCS_PAGE);
    if (path === '/docs/init.js') return send(TYPES['.js'], INIT_SCRIPT);
    if (path.startsWith('/docs/')) {
      const file = normalize(join(swaggerDir, path.slice('/docs/'.length)));
      if (!file.startsWith(swaggerDir) || !existsSync(file) || !statSync(file).isFile()) return false;
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'public, max-age=3600' });
      createReadStream(file).pipe(res);
      return true;
    }
    if (path === '/') {
      return send(
        TYPES['.html'],
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Faultline</title></head><body><h1>Faultline</h1><ul><li><a href="/docs">API documentation</a></li><li><a href="/openapi.json">OpenAPI document</a></li><li><a href="/health">Health</a></li></ul></body></html>',
      );
    }
    return false;
  };
}
