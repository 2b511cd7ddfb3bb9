/**
 * A TCP proxy on loopback between the service and its database, for outage tests: `cut()` drops
 * every open connection and refuses new ones (as a dead server or a broken network does),
 * `stall()` keeps connections open but holds back everything the target answers (a server that
 * hangs), `heal()` lets connections and answers through again.
 */
import { createServer, connect, type Socket } from 'node:net';

export interface TcpProxy {
  /** host:port to connect to instead of the target. */
  readonly port: number;
  /** Rewrites a URL's host and port to go through the proxy. */
  route(url: string): string;
  cut(): void;
  stall(): void;
  heal(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  /** Target → client directions, for stall() and heal(). */
  const answers = new Map<Socket, Socket>();
  let down = false;
  let stalled = false;
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('close', () => open.delete(socket));
      // Either side failing ends both; the other side sees a reset, as with a real outage.
      socket.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.pipe(upstream);
    if (!stalled) upstream.pipe(client);
    answers.set(upstream, client);
    upstream.on('close', () => answers.delete(upstream));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    route(url) {
      const parsed = new URL(url);
      parsed.hostname = '127.0.0.1';
      parsed.port = String(port);
      return parsed.toString();
    },
    cut() {
      down = true;
      for (const socket of open) socket.resetAndDestroy();
    },
    stall() {
      stalled = true;
      for (const [upstream, client] of answers) upstream.unpipe(client);
    },
    heal() {
      down = false;
      if (stalled) for (const [upstream, client] of answers) upstream.pipe(client);
      stalled = false;
    },
    async close() {
      down = true;
      for (const socket of open) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
