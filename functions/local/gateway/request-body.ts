import type { IncomingMessage } from 'node:http';

/**
 * Bytes of request bodies held in memory at once, across all requests. A request takes its share before it is read
 * (its declared length) or while it is read (chunked), and gives it back when it is answered; one that does not fit
 * is refused (503 with Retry-After) rather than made to wait, since a waiting upload still holds a connection and
 * its sender's bytes in the socket buffers, and a queue of them would need its own bound.
 */
export class ByteBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Takes n bytes if they fit; false (and nothing taken) if not. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  get inUse(): number {
    return this.used;
  }
}

export interface ReadBodyLimits {
  maxBytes: number;
  /** Asks for `total` bytes held in all for this body so far; false: the shared budget is spent. */
  hold: (total: number) => boolean;
  /** The body is given up when no byte arrives for this long... */
  idleMs: number;
  /** ...or when it is not complete by this time (epoch ms). */
  deadline: number;
}

/** 'aborted': the sender went away before the end (nothing to answer). */
export type BodyOutcome = Buffer | 'too-large' | 'over-budget' | 'timeout' | 'aborted';

/**
 * Reads a request body within limits. Past one of them, reading stops (nothing more is buffered) and the caller
 * answers with a 4xx or 503. Listeners rather than `for await`: leaving that loop early destroys the request, and
 * with it the socket the answer has to go out on.
 */
export function readBody(req: IncomingMessage, limits: ReadBodyLimits): Promise<BodyOutcome> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let idle: NodeJS.Timeout | undefined;
    const total = setTimeout(() => done('timeout'), Math.max(0, limits.deadline - Date.now()));
    const done = (result: BodyOutcome | Error) => {
      clearTimeout(idle);
      clearTimeout(total);
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (result instanceof Error) return reject(result);
      if (!Buffer.isBuffer(result)) req.pause();
      resolve(result);
    };
    const restartIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => done('timeout'), limits.idleMs);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) return done('too-large');
      if (!limits.hold(size)) return done('over-budget');
      chunks.push(chunk);
      restartIdle();
    };
    const onEnd = () => done(Buffer.concat(chunks, size));
    const onError = (error: Error) => done(error);
    const onClose = () => done('aborted');
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    restartIdle();
  });
}
