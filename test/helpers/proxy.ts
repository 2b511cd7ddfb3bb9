/** A TCP proxy in front of a listener that can be switched off (connections refused and cut): a CA outage on demand. */
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';

export interface SwitchableProxy {
  /** <target protocol>//127.0.0.1:<port> of the proxy. */
  url: string;
  up: boolean;
  close(): void;
}

export function switchableProxy(target: URL): Promise<SwitchableProxy> {
  const sockets = new Set<Socket>();
  const state = { up: true };
  const server: Server = createServer((client) => {
    if (!state.up) return client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const url = `${target.protocol}//127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve({
      url,
      get up() { return state.up; },
      set up(value: boolean) { state.up = value; if (!value) for (const s of sockets) s.destroy(); },
      close() { for (const s of sockets) s.destroy(); server.close(); },
    });
  }));
}
