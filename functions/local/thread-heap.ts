import { getHeapStatistics } from 'node:v8';
import { BroadcastChannel } from 'node:worker_threads';

/**
 * The V8 heaps of the process's other threads (today the stand-ins thread), for the benchmarks' memory probe:
 * process.memoryUsage() gives the calling thread's heap only, while RSS holds every thread's, so a soak that
 * subtracts the main heap from RSS would count a thread's heap as native memory and read its swings as a leak.
 */
const CHANNEL = 'faultline:thread-heap';

export interface ThreadHeap {
  heapUsed: number;
  heapTotal: number;
}

interface Ask {
  ask: number;
}
interface Answer extends ThreadHeap {
  answer: number;
}

/** On a thread: answer the probe with this thread's heap. The channel does not keep the thread alive. */
export function answerHeapProbes(): () => void {
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (event) => {
    const data = (event as { data: Ask | Answer }).data;
    if (!('ask' in data)) return;
    const heap = getHeapStatistics();
    channel.postMessage({
      answer: data.ask,
      heapUsed: heap.used_heap_size,
      heapTotal: heap.total_heap_size,
    } satisfies Answer);
  };
  channel.unref();
  return () => channel.close();
}

let asked = 0;

/** On the main thread: the heaps of the threads that answer within `waitMs` (none when there are no such threads). */
export async function otherThreadHeaps(waitMs = 250): Promise<ThreadHeap[]> {
  const channel = new BroadcastChannel(CHANNEL);
  const ask = ++asked;
  const heaps: ThreadHeap[] = [];
  channel.onmessage = (event) => {
    const data = (event as { data: Ask | Answer }).data;
    if ('answer' in data && data.answer === ask) heaps.push({ heapUsed: data.heapUsed, heapTotal: data.heapTotal });
  };
  channel.postMessage({ ask } satisfies Ask);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  channel.close();
  return heaps;
}
