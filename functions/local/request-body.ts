import type { IncomingMessage } from 'node:http';

/**
 * Reads a request body up to a limit. Past it, reading stops (nothing more is buffered) and the caller answers 413.
 * Listeners rather than `for await`: leaving that loop early destroys the request, and with it the socket the 413
 * has to go out on.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: Buffer | 'too-large' | Error) => {
      req.off('data', onData).off('end', onEnd).off('error', onError);
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        done('too-large');
      } else chunks.push(chunk);
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onError = (error: Error) => done(error);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
