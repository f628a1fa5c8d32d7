/**
 * Loaded into the service's child process by the benchmarks (node --import, before the service's entry): answers the
 * message 'memory' from the parent with process.memoryUsage() and the size of sharp's (libvips') operation cache.
 * It changes nothing else in the service.
 */
import sharp from 'sharp';

process.on('message', (message) => {
  if (message === 'memory')
    process.send?.({ memory: process.memoryUsage(), sharpCacheMb: sharp.cache().memory.current });
});
// The service's own handles keep it running; this channel alone must not.
process.channel?.unref();
