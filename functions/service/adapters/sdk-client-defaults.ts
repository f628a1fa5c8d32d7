/**
 * Settings every AWS SDK client of the service takes. `cacheMiddleware`: without it the SDK resolves a command's
 * middleware stack (clone, sort and link some forty steps) on every send; in a drop-folder profile that resolution was
 * about a sixth of the SDK's own CPU on the main thread (1.2 of 6.6 s over 300 images, DynamoDB's calls included). Kept per command class instead, which is safe here: no
 * middleware is added to a client after its first request (the X-Ray capture is added as the client is made, and
 * the presigner works on its own copy of the stack). Not for DynamoDB: its document client refuses the option (it
 * changes the stack per command to marshal items).
 */
export const SDK_CLIENT_DEFAULTS = { cacheMiddleware: true } as const;
