import { inboxJobKey } from '../domain/job.ts';
import { decodeS3Key } from '../object-keys.ts';
import type { QueueMessage } from '../ports/work-queue.ts';
import type { Services } from '../services.ts';
import { announceJobEnd } from './run-job.ts';
import { parseWorkMessage } from './work-message.ts';

/** The jobs a queue message stands for: a training job, or the detection jobs of drop-folder objects. */
export async function jobIdsOf(s: Services, body: string): Promise<string[]> {
  const work = parseWorkMessage(body);
  switch (work.kind) {
    case 'job':
      return [work.jobId];
    case 's3': {
      const ids: string[] = [];
      for (const r of work.records) {
        const id = await s.jobs.findByIdempotencyKey(inboxJobKey(r.bucket, decodeS3Key(r.key), r.version));
        if (id) ids.push(id);
      }
      return ids;
    }
    case 'test':
    case 'unknown':
      return [];
    default:
      return work satisfies never;
  }
}

/**
 * The messages waiting in the dead-letter queue (up to `max`), each taken for `hideSeconds`. With waitSeconds 0 a
 * receive samples only some of SQS's servers and may come back empty early: fine for the sweep (the next one finds
 * the rest) but not for a redrive, which waits a second per receive.
 */
async function takeDeadLetters(
  s: Services,
  o: { hideSeconds: number; waitSeconds: number },
  max = 1000,
): Promise<QueueMessage[]> {
  const dlq = s.deadLetters;
  if (!dlq) return [];
  const taken: QueueMessage[] = [];
  while (taken.length < max) {
    const batch = await dlq.receive({ max: 10, waitSeconds: o.waitSeconds, visibilitySeconds: o.hideSeconds });
    if (batch.length === 0) break;
    taken.push(...batch);
  }
  return taken;
}

/**
 * Jobs whose messages reached the dead-letter queue while still unfinished (the worker died on the last attempt)
 * are marked FAILED with the last error. The messages are handed back at once and stay in the queue (so the alarm
 * keeps firing and a redrive finds them) until a redrive after a fix; `seen` spares the table lookups on later sweeps.
 */
export async function sweepDeadLetters(s: Services, seen: Set<string> = new Set()): Promise<void> {
  const taken = await takeDeadLetters(s, { hideSeconds: 60, waitSeconds: 0 });
  try {
    for (const m of taken.filter((m) => !seen.has(m.id))) {
      for (const id of await jobIdsOf(s, m.body)) {
        const job = await s.jobs.get(id);
        if (!job || job.status === 'SUCCEEDED' || job.status === 'FAILED') continue;
        const reason = {
          code: 'DEAD_LETTER',
          message: `moved to the dead-letter queue after ${m.receiveCount} receives${job.error ? `; last error: ${job.error.message}` : ''}`,
        };
        if (await s.jobs.fail(id, reason)) await announceJobEnd(s, job, 'Job Failed', { error: reason });
      }
      seen.add(m.id);
    }
  } finally {
    await Promise.all(taken.map((m) => s.deadLetters!.extendVisibility(m, 0).catch(() => undefined)));
  }
}

export interface RedriveOutcome {
  /** Messages moved back to the work queue. */
  messages: number;
  /** FAILED jobs set back to QUEUED, to run again. */
  jobs: string[];
}

/**
 * After a fix: every dead-letter message goes back to the work queue, and the FAILED jobs it stands for are set
 * back to QUEUED (keeping their attempt count), so that the workers run them again. The message is deleted from
 * the dead-letter queue only once it is back on the work queue: a redrive cut short loses nothing.
 */
export async function redriveDeadLetters(s: Services): Promise<RedriveOutcome> {
  const jobs: string[] = [];
  let messages = 0;
  for (const m of await takeDeadLetters(s, { hideSeconds: 300, waitSeconds: 1 })) {
    for (const id of await jobIdsOf(s, m.body)) if (await s.jobs.retry(id)) jobs.push(id);
    await s.queue.send(JSON.parse(m.body));
    await s.deadLetters!.delete(m);
    messages++;
  }
  s.log({ msg: 'dead letters redriven', messages, jobs: jobs.length });
  return { messages, jobs };
}
