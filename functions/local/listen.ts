import { createServer, type Server as NetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/**
 * Binding ports for the local servers, with errors that name the port and what wanted it: a bare EADDRINUSE from
 * deep inside a stand-in does not say which of four servers failed.
 */

/** The error for a port that cannot be bound; `what` names the server ("S3 stand-in (s3rver)"). */
export function listenError(what: string, host: string, port: number, cause: unknown): Error {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new Error(`${what} cannot listen on ${host}:${port}: port ${port} is already in use`, { cause });
  }
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${what} cannot listen on ${host}:${port}: ${reason}`, { cause });
}

/** Listens on host:port (0 = a free port) and resolves with the bound port. */
export function listen(server: Server | NetServer, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(listenError(what, host, port, error));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Finds out whether host:port can be bound (and which port 0 gives) by binding it and letting go. For servers that
 * hold resources from the moment they are made (dynalite opens its LevelDB folder), so a taken port fails before
 * anything needs cleaning up. Another process could take the port in between; that narrow race is accepted.
 */
export async function reservePort(port: number, host: string, what: string): Promise<number> {
  const probe = createServer();
  const bound = await listen(probe, port, host, what);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return bound;
}

/**
 * Closes an http server: idle keep-alive sockets at once, busy ones after `graceMs` (an SDK client's long poll or a
 * stuck upload must not keep stop() waiting). Resolves when the server has closed; a server that was not running
 * counts as closed.
 */
export function closeServer(server: Server, graceMs = 2_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close((error?: Error & { code?: string }) => {
      clearTimeout(force);
      if (error && error.code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** The URL clients use for a server bound to host:port (a wildcard address is reached through loopback). */
export function endpointUrl(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
