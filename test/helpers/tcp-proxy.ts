import { createServer, type Socket, connect } from 'node:net';

export interface TcpProxy {
  url: string;
  /** Drops every open connection and refuses new ones until `restore`, as a stopped server would. */
  cut(): void;
  restore(): void;
  /** Connections refused while cut. */
  refused: number;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of a stand-in, which a test can cut to play an outage of that service. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let down = false;
  const proxy: TcpProxy = {
    url: '',
    refused: 0,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server = createServer((client) => {
    if (down) {
      proxy.refused++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  proxy.url = `http://127.0.0.1:${address.port}`;
  return proxy;
}
