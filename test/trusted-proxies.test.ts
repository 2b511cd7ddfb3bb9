/**
 * The client address behind a real proxy hop (http.trustedProxies). A tiny node:http proxy on
 * 127.0.0.1 appends the address of whoever called it to X-Forwarded-For, as nginx's
 * `$proxy_add_x_forwarded_for` does; test clients call it from other loopback addresses
 * (127.0.0.5, 127.0.0.6), so the proxy's peer and the client differ as on a real network.
 *
 * - `request.ip` is exactly what resolveClientAddress answers, whatever the client wrote in the
 *   header (fastify's own walk would return ports, IPv4-mapped forms and garbage as written).
 * - Behind the trusted proxy, audit rows and refusal limits see the client, not the proxy, and a
 *   client that writes its own X-Forwarded-For changes nothing.
 * - With no trusted proxies, or from a peer that is not one, the header is ignored.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createHttpApp } from '../src/shared/http.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { compileCidrs, resolveClientAddress } from '../src/shared/client-address.ts';
import { startService, type TestService } from './helpers/service.ts';

interface Proxy { url: string; close(): Promise<void> }

/** A forwarding proxy on 127.0.0.1 that appends its caller's address (`entry` formats it) to X-Forwarded-For. */
function startProxy(target: string, entry: (peer: string, port: number) => string = (peer) => peer): Promise<Proxy> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const existing = req.headers['x-forwarded-for'];
    const appended = entry(req.socket.remoteAddress!, req.socket.remotePort!);
    const headers = { ...req.headers, 'x-forwarded-for': existing ? `${existing}, ${appended}` : appended };
    const forward = httpRequest({ host: upstream.hostname, port: upstream.port, localAddress: '127.0.0.1', method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => { res.writeHead(502).end(); });
    req.pipe(forward);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
  })));
}

/** A request from a chosen loopback address (the client's own address, as the proxy sees it). */
function call(url: string, options: { from: string; method?: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: options.method ?? 'GET', headers: options.headers ?? {}, localAddress: options.from, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; }).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('request.ip is resolveClientAddress\'s answer', () => {
  // Every loopback address is "ours" here, so the walk goes on into what the client wrote: the
  // cases where fastify's own X-Forwarded-For walk and ours would differ.
  const trusted = ['127.0.0.0/8'];
  let app: FastifyInstance;
  let direct: string;
  let proxy: Proxy;
  let portProxy: Proxy;

  before(async () => {
    app = createHttpApp({ logger: silentLogger(), bodyLimit: 1024, trustedProxies: trusted });
    app.get('/ip', async (request) => ({ ip: request.ip, forwardedFor: request.headers['x-forwarded-for'] ?? null }));
    direct = await app.listen({ host: '127.0.0.1', port: 0 });
    proxy = await startProxy(direct);
    portProxy = await startProxy(direct, (peer, port) => `${peer}:${port}`);
  });
  after(async () => {
    await proxy.close();
    await portProxy.close();
    await app.close();
  });

  const written = ['', '198.51.100.7', '6.6.6.6, 198.51.100.7', 'not-an-ip', '198.51.100.7:8080', '::ffff:198.51.100.7', '[2001:db8::7]:443', '2001:db8::7', '198.51.100.7, 10.0.0.1, garbage'];
  for (const header of written) {
    test(`ok: client wrote ${JSON.stringify(header)}`, async () => {
      const res = await call(`${proxy.url}/ip`, { from: '127.0.0.5', headers: header === '' ? {} : { 'x-forwarded-for': header } });
      const received = header === '' ? '127.0.0.5' : `${header}, 127.0.0.5`;
      assert.equal((JSON.parse(res.body) as { ip: string }).ip, resolveClientAddress('127.0.0.1', received, compileCidrs(trusted)));
    });
  }

  test('ok: a proxy that writes the port: the address alone', async () => {
    const res = await call(`${portProxy.url}/ip`, { from: '127.0.0.5', headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal((JSON.parse(res.body) as { ip: string }).ip, '198.51.100.7');
  });

  test('fail-untrusted-peer: a direct caller outside the trusted blocks cannot choose its address', async () => {
    const other = createHttpApp({ logger: silentLogger(), bodyLimit: 1024, trustedProxies: ['10.0.0.0/8'] });
    other.get('/ip', async (request) => ({ ip: request.ip }));
    const url = await other.listen({ host: '127.0.0.1', port: 0 });
    try {
      const res = await call(`${url}/ip`, { from: '127.0.0.5', headers: { 'x-forwarded-for': '10.1.1.1, 198.51.100.7' } });
      assert.equal((JSON.parse(res.body) as { ip: string }).ip, '127.0.0.5');
    } finally {
      await other.close();
    }
  });
});

describe('the Security Service behind a trusted proxy', () => {
  const LIMIT = 3;
  let svc: TestService;
  let proxy: Proxy;

  before(async () => {
    svc = await startService({ config: { http: { trustedProxies: ['127.0.0.1/32'], refusalLimit: LIMIT, refusalWindow: '1m', refusalBlock: '1m' } } });
    proxy = await startProxy(svc.url);
  });
  after(async () => {
    await proxy.close();
    await svc.close();
  });

  const denied = async () => (await svc.service.context.audit.list({ event: 'admin.denied', latest: true, limit: 1 }))[0]!;
  const admin = (from: string, forwardedFor?: string) => call(`${proxy.url}/admin/api/users`, { from, headers: { authorization: 'Bearer not-a-token', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) } });

  test('ok: audit rows name the client, not the proxy, and not what the client wrote', async () => {
    assert.equal((await admin('127.0.0.5', '6.6.6.6')).status, 401);
    assert.equal((await denied()).ip, '127.0.0.5');
  });

  test('fail-spoofed-forwarded-for: a client that rewrites X-Forwarded-For each time is still blocked; its neighbour is not', async () => {
    for (let i = 0; i < LIMIT; i++) assert.equal((await admin('127.0.0.6', `1.1.1.${i}`)).status, 401);
    assert.equal((await admin('127.0.0.6', '1.1.1.200')).status, 429);
    assert.equal((await admin('127.0.0.7')).status, 401, 'another client behind the same proxy is not blocked');
    const blocked = (await svc.service.context.audit.list({ event: 'ip.blocked' })).map((row) => row.ip);
    assert.deepEqual(blocked, ['127.0.0.6']);
  });

  test('fail-untrusted-peer: a client calling directly cannot choose its address', async () => {
    assert.equal((await call(`${svc.url}/admin/api/users`, { from: '127.0.0.8', headers: { authorization: 'Bearer x', 'x-forwarded-for': '198.51.100.1' } })).status, 401);
    assert.equal((await denied()).ip, '127.0.0.8');
  });
});

describe('the Security Service with no trusted proxies', () => {
  let svc: TestService;
  let proxy: Proxy;

  before(async () => {
    svc = await startService();
    proxy = await startProxy(svc.url);
  });
  after(async () => {
    await proxy.close();
    await svc.close();
  });

  test('ok: X-Forwarded-For is ignored: the client is the peer, here the proxy', async () => {
    assert.equal((await call(`${proxy.url}/admin/api/users`, { from: '127.0.0.5', headers: { authorization: 'Bearer x', 'x-forwarded-for': '198.51.100.1' } })).status, 401);
    const row = (await svc.service.context.audit.list({ event: 'admin.denied', latest: true, limit: 1 }))[0]!;
    assert.equal(row.ip, '127.0.0.1');
  });
});
