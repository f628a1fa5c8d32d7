/**
 * Loaded into the service's child process by the benchmarks (node --import, before the service's entry): answers the
 * message 'memory' from the parent with process.memoryUsage(). It changes nothing else in the service.
 */
process.on('message', (message) => {
  if (message === 'memory') process.send?.({ memory: process.memoryUsage() });
});
// The service's own handles keep it running; this channel alone must not.
process.channel?.unref();
