/**
 * Loaded into the service's child process by the benchmarks (node --import, before the service's entry): answers the
 * message 'memory' from the parent with process.memoryUsage() (its heap figures summed over the process's threads:
 * RSS holds them all) and the size of sharp's (libvips') operation cache. It changes nothing else in the service.
 */
import sharp from 'sharp';
import { otherThreadHeaps } from '../../functions/local/thread-heap.ts';

process.on('message', (message) => {
  if (message !== 'memory') return;
  void otherThreadHeaps().then((threads) => {
    const memory = process.memoryUsage();
    for (const t of threads) {
      memory.heapUsed += t.heapUsed;
      memory.heapTotal += t.heapTotal;
    }
    process.send?.({ memory, sharpCacheMb: sharp.cache().memory.current });
  });
});
// The service's own handles keep it running; this channel alone must not.
process.channel?.unref();
