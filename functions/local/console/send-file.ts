import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { normalize, sep } from 'node:path';
import { contentType } from './content-types.ts';

/** The file under `dir` that a URL path names, or undefined when it is outside `dir` or not a file. */
export function fileUnder(dir: string, relativePath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relativePath);
  } catch {
    return undefined;
  }
  const root = normalize(dir.endsWith(sep) ? dir : dir + sep);
  const file = normalize(root + decoded);
  if (!file.startsWith(root)) return undefined;
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/** Sends a file (no body for HEAD) with its content type and the given headers. */
export function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string,
  headers: Record<string, string>,
  status = 200,
): true {
  res.writeHead(status, {
    'content-type': contentType(file),
    'content-length': statSync(file).size,
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}

/** Sends a text body (no body for HEAD). */
export function sendText(
  req: IncomingMessage,
  res: ServerResponse,
  type: string,
  body: string,
  headers: Record<string, string> = {},
  status = 200,
): true {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
