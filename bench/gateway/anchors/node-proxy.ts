/**
 * The bare Node reverse proxy: a node:http server and an undici Pool to the upstream, the body
 * relayed with `pool.stream()`. AUTH=none is the Node-side physical limit; AUTH=jose adds one
 * jose `jwtVerify` per request (key imported once, no cache) and the route check: the
 * one-verification-per-request bound. PORT, UPSTREAM_URL, JWT_PUBLIC_KEY_FILE, JWT_ISSUER,
 * JWT_AUDIENCE from the environment.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';
import { importSPKI, jwtVerify, type JWTPayload } from 'jose';
import { authorize } from './authz.ts';

const AUTH = process.env.AUTH ?? 'none';
const pool = new Pool(process.env.UPSTREAM_URL!, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });

let verify: ((token: string) => Promise<JWTPayload>) | undefined;
if (AUTH === 'jose') {
  const key = await importSPKI(readFileSync(process.env.JWT_PUBLIC_KEY_FILE!, 'utf8'), 'ES256');
  const options = { issuer: process.env.JWT_ISSUER!, audience: process.env.JWT_AUDIENCE!, algorithms: ['ES256'] };
  verify = async (token) => (await jwtVerify(token, key, options)).payload;
}

const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host']);

function deny(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(status === 401 ? '{"error":"unauthorized"}' : status === 403 ? '{"error":"forbidden"}' : '{"error":"not_found"}');
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (verify !== undefined) {
    const header = req.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return deny(res, 401);
    let payload: JWTPayload;
    try { payload = await verify(header.slice(7)); } catch { return deny(res, 401); }
    const status = authorize(req.method!, req.url!, payload.roles);
    if (status !== 0) return deny(res, status);
  }
  const headers: Record<string, string | string[]> = {};
  for (const name in req.headers) if (!HOP.has(name)) headers[name] = req.headers[name]!;
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  try {
    await pool.stream({ method: req.method as 'GET', path: req.url!, headers, body: hasBody ? req : null, opaque: res }, ({ statusCode, headers: upstreamHeaders, opaque }) => {
      const out: Record<string, string | string[]> = {};
      for (const name in upstreamHeaders) if (!HOP.has(name)) out[name] = upstreamHeaders[name]!;
      const response = opaque as http.ServerResponse;
      response.writeHead(statusCode, out);
      return response;
    });
  } catch {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  }
}

const server = http.createServer((req, res) => { handle(req, res).catch(() => res.destroy()); });
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(`node-proxy auth=${AUTH} :${process.env.PORT} -> ${process.env.UPSTREAM_URL}`));
// Exit on SIGTERM (the harness's stop) rather than be killed by it, so --cpu-prof can write its profile.
process.once('SIGTERM', () => server.close(() => process.exit(0)));
