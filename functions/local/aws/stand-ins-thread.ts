import { Worker } from 'node:worker_threads';
import type { StandIns, StandInsOptions } from './stand-ins.ts';

/**
 * The stand-ins (S3, DynamoDB, SQS and Kinesis) on a thread of their own, so that their request handling, signature
 * checks and LevelDB bookkeeping run beside the API, the workers and the engine instead of on their event loop:
 * profiled during a drop-folder run, the stand-ins took a quarter of the main thread, which was the bottleneck. The
 * thread is part of this process: a kill -9 ends both, and the data folder's lock names this process as before.
 * Bucket notifications are delivered on the thread too, to the named queue, as S3 delivers to SQS.
 */

/** What the thread takes: the stand-ins' settings (functions cannot cross to a thread), and where notifications go. */
export interface StandInsThreadOptions extends Omit<StandInsOptions, 'onS3Event' | 'log'> {
  /** The queue that gets the bucket's notifications for the keys the service is told of (object-keys.ts isNotified). */
  notifyQueue?: string;
  /** Kinesis (kinesalite) beside the others: its LevelDB folder and streams. */
  kinesis?: { path: string; streams: { name: string; shards: number }[] };
  /** Where the thread's log lines go; default one JSON line on stderr. */
  log?: (line: Record<string, unknown>) => void;
}

export interface StandInsOnThread extends StandIns {
  /** kinesalite's endpoint, when asked for. */
  kinesisEndpoint?: string;
}

/** Messages from the thread. */
export type FromThread =
  | { type: 'ready'; access: Omit<StandInsOnThread, 'stop'> }
  | { type: 'failed'; error: string; stack?: string }
  | { type: 'log'; line: Record<string, unknown> }
  | { type: 'stopped'; error?: string };

export async function startStandInsThread(options: StandInsThreadOptions): Promise<StandInsOnThread> {
  const { log: logOption, ...settings } = options;
  const log = logOption ?? ((line: Record<string, unknown>) => console.error(JSON.stringify(line)));
  // A plain-JavaScript start that loads the TypeScript entry, under `tsx` and vitest alike; none of the process's own
  // preloads (--import), which are the main thread's business.
  const thread = new Worker(new URL('./stand-ins-thread-boot.mjs', import.meta.url), {
    workerData: settings,
    execArgv: [],
  });
  let onStopped: ((error?: string) => void) | undefined;
  let started = false;
  const ready = new Promise<Omit<StandInsOnThread, 'stop'>>((resolve, reject) => {
    thread.on('message', (m: FromThread) => {
      if (m.type === 'log') log(m.line);
      else if (m.type === 'ready') {
        started = true;
        resolve(m.access);
      } else if (m.type === 'failed') {
        const error = new Error(m.error);
        if (m.stack) error.stack = m.stack;
        reject(error);
      } else if (m.type === 'stopped') onStopped?.(m.error);
    });
    thread.on('error', (error) => {
      if (!started) return reject(error);
      // As when they ran on the main thread: stand-ins that fail take the process down rather than answer wrongly.
      log({ level: 'error', msg: 'the stand-ins thread failed', error: error.stack ?? String(error) });
      process.nextTick(() => {
        throw error;
      });
    });
    thread.on('exit', (code) => {
      if (!started) reject(new Error(`the stand-ins thread exited (${code}) before it started`));
      onStopped?.();
    });
  });
  let access: Omit<StandInsOnThread, 'stop'>;
  try {
    access = await ready;
  } catch (error) {
    await thread.terminate();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    const error = await new Promise<string | undefined>((resolve) => {
      onStopped = resolve;
      thread.postMessage({ type: 'stop' });
    });
    thread.removeAllListeners('error');
    await thread.terminate();
    if (error) throw new Error(error);
  };
  return { ...access, stop: () => (stopped ??= stop()) };
}
