/**
 * A small real HTTP intermediary in front of the IdP (its issuer is the proxy's origin, like a
 * reverse proxy): forwards every request unchanged unless a test asks it to
 * - `slow`: hold requests without answering (a provider that hangs),
 * - `down`: cut connections at once (a provider that is gone),
 * - `tamperToken`: rewrite the JSON of token-endpoint answers (e.g. break the ID token signature).
 * The provider behind it stays a real Gatehouse; only its answers are changed.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { listenOn } from '../helpers/service.ts';

export type ProxyMode = 'normal' | 'slow' | 'down';

export interface TamperingProxy {
  mode: ProxyMode;
  tamperToken: ((body: Record<string, unknown>) => Record<string, unknown>) | undefined;
  /** Method and URL of every request received, in order. */
  requests: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startTamperingProxy(port: number, target: string): Promise<TamperingProxy> {
  const sockets = new Set<Socket>();
  const held = new Set<ServerResponse>();
  const state: TamperingProxy = {
    mode: 'normal',
    tamperToken: undefined,
    requests: [],
    close: async () => {
      for (const res of held) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer(async (req, res) => {
    state.requests.push(`${req.method} ${req.url}`);
    if (state.mode === 'down') return req.socket.destroy();
    if (state.mode === 'slow') {
      held.add(res);
      return;
    }
    try {
      const body = await readBody(req);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || name === 'host' || name === 'connection' || name === 'content-length') continue;
        headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, redirect: 'manual', ...(body.length > 0 ? { body } : {}) });
      let payload = Buffer.from(await upstream.arrayBuffer());
      if (state.tamperToken && req.url?.startsWith('/oauth2/token') && upstream.headers.get('content-type')?.includes('json')) {
        payload = Buffer.from(JSON.stringify(state.tamperToken(JSON.parse(payload.toString('utf8')) as Record<string, unknown>)));
      }
      const out: Record<string, string | string[]> = {};
      upstream.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'content-encoding' && name !== 'transfer-encoding' && name !== 'set-cookie' && name !== 'connection') out[name] = value;
      });
      const cookies = upstream.headers.getSetCookie();
      if (cookies.length > 0) out['set-cookie'] = cookies;
      res.writeHead(upstream.status, out).end(payload);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await listenOn(server, port);
  return state;
}
