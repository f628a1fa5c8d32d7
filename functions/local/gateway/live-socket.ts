import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { authenticate, type SignIn } from '../../auth/authorizer.ts';
import { liveCredentials } from '../../auth/live-sign-in.ts';
import { LOCAL_ADMIN, type Principal } from '../../service/auth/principal.ts';
import type { LiveFeed } from '../../service/live/live-feed.ts';
import { LOSSY_BUFFER_BYTES, MAX_BUFFER_BYTES } from '../../service/live/live-limits.ts';
import type { LiveServerMessage } from '../../service/live/live-messages.ts';

/** Where the live feed is reached on the local HTTP API's port: ws://HOST:PORT/ws. */
export const LIVE_PATH = '/ws';
/** Frames larger than this close the connection (1009); the feed refuses messages over 16 KB itself. */
const MAX_FRAME_BYTES = 64 * 1024;
const HEARTBEAT_MS = 30_000;

export interface LiveSocketServer {
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  close(): void;
}

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  const reason = status === 401 ? 'Unauthorized' : 'Not Found';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * The live feed over WebSockets, on the HTTP API's port (the `ws` package; API Gateway's WebSocket API is its AWS
 * counterpart). The caller signs in at connect time as for the HTTP API: an x-api-key or Authorization: Bearer header,
 * or, for browsers (which cannot set headers on a WebSocket), `?key=` or `?token=` in the URL. Without sign-in
 * (FAULTLINE_AUTH=none) every caller is the local administrator.
 */
export function liveSocketServer(o: {
  feed: LiveFeed;
  /** Unset: no sign-in (FAULTLINE_AUTH=none). */
  signIn?: SignIn;
  log(line: Record<string, unknown>): void;
}): LiveSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const serve = (ws: WebSocket, principal: Principal) => {
    alive.set(ws, true);
    ws.on('pong', () => alive.set(ws, true));
    const send = (message: LiveServerMessage, lossy: boolean) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFER_BYTES) {
        ws.close(1013, 'reading too slowly: reconnect and subscribe with since');
        return;
      }
      if (lossy && ws.bufferedAmount > LOSSY_BUFFER_BYTES) return;
      ws.send(JSON.stringify(message));
    };
    const connection = o.feed.connect({ principal, send });
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        send({ type: 'error', code: 'INVALID_JSON', message: 'messages are JSON text, not binary frames' }, false);
        return;
      }
      connection.receive(data.toString()).catch((error: unknown) => {
        o.log({ level: 'error', msg: 'live message failed', error: String(error) });
        send({ type: 'error', code: 'INTERNAL', message: 'the message could not be handled; try again' }, false);
      });
    });
    ws.on('close', () => connection.close());
    ws.on('error', () => connection.close());
  };

  return {
    upgrade(req, socket, head) {
      const url = new URL(req.url ?? '/', 'http://local');
      if (url.pathname !== LIVE_PATH) return refuse(socket, 404, 'NOT_FOUND', `the live feed is at ${LIVE_PATH}`);
      const headers = liveCredentials(req.headers, Object.fromEntries(url.searchParams));
      const signIn = o.signIn;
      const who: Promise<Principal | undefined> = signIn ? authenticate(headers, signIn) : Promise.resolve(LOCAL_ADMIN);
      who.then(
        (principal) => {
          if (!principal)
            return refuse(socket, 401, 'UNAUTHORIZED', 'sign in with an API key (x-api-key or ?key=) or a JWT');
          wss.handleUpgrade(req, socket, head, (ws) => serve(ws, principal));
        },
        (error: unknown) => {
          o.log({ level: 'error', msg: 'live sign-in failed', error: String(error) });
          socket.destroy();
        },
      );
    },
    close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      o.feed.close();
    },
  };
}
