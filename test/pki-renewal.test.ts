/**
 * Renewal in motion: a CA that is unreachable at renewal time (retries, the old certificate
 * keeps working, no request fails), and renewal under a steady load loop (zero failures).
 * Short lifetimes: certificates of a few seconds renew at two thirds of their life.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket, type AddressInfo } from 'node:net';
import type { Server as HttpsServer } from 'node:https';
import { request } from 'undici';
import { startService, type TestService } from './helpers/service.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity, type IdentityEvent } from '../src/sdk/index.ts';

const TD = 'td.test';
let svc: TestService;

/** A TCP proxy in front of the CA's TLS listener that can be switched off (connections refused). */
function switchableProxy(target: URL): Promise<{ url: string; up: boolean; close(): void }> {
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
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    resolve({
      url,
      get up() { return state.up; },
      set up(value: boolean) { state.up = value; if (!value) for (const s of sockets) s.destroy(); },
      close() { for (const s of sockets) s.destroy(); server.close(); },
    });
  }));
}

async function identity(service: string, caUrl: string, options: { ttl?: number; retry?: { initialDelay: number; maxDelay: number } } = {}): Promise<WorkloadIdentity> {
  const { token } = await svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' });
  return workloadIdentity({ caUrl, service, joinToken: token, refreshInterval: 500, ...options });
}

async function listen(server: HttpsServer): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Calls `url` with `concurrency` loops until `until()`; returns counts. */
async function loadLoop(url: string, agent: ReturnType<typeof mtlsAgent>, concurrency: number, until: () => boolean) {
  let ok = 0;
  const failures: string[] = [];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (!until()) {
      try {
        const res = await request(url, { dispatcher: agent });
        await res.body.text();
        if (res.statusCode === 200) ok += 1;
        else failures.push(`status ${res.statusCode}`);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  }));
  return { ok, failures };
}

before(async () => {
  svc = await startService({ config: { pki: { trustDomain: TD, leafTtl: '6s' } } });
});
after(async () => {
  await svc.close();
});

test('ok: renewal under steady load — both sides renew, zero failed requests', async () => {
  const caUrl = svc.service.tlsUrl!;
  const orders = await identity('orders', caUrl);
  const catalog = await identity('catalog', caUrl);
  const server = createMtlsServer((_req, res) => res.end('ok'), { identity: catalog, allow: [{ spiffeId: `spiffe://${TD}/svc/orders` }] });
  const url = await listen(server);
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog`, connections: 4 });
  const serials = { orders: new Set([orders.serial]), catalog: new Set([catalog.serial]) };
  orders.on('changed', () => serials.orders.add(orders.serial));
  catalog.on('changed', () => serials.catalog.add(catalog.serial));
  try {
    const started = Date.now();
    const result = await loadLoop(`${url}/books`, agent, 4, () => Date.now() - started > 6500);
    assert.deepEqual(result.failures, []);
    assert.ok(result.ok > 100, `only ${result.ok} requests`);
    assert.ok(serials.orders.size >= 2, 'the client renewed during the load');
    assert.ok(serials.catalog.size >= 2, 'the server renewed during the load');
  } finally {
    await agent.close();
    server.closeAllConnections();
    server.close();
    await orders.close();
    await catalog.close();
  }
});

test('ok: CA unreachable at renewal time — retries with backoff, the old certificate keeps working, no request fails', async () => {
  const proxy = await switchableProxy(new URL(svc.service.tlsUrl!));
  const orders = await identity('orders', proxy.url, { ttl: 8, retry: { initialDelay: 200, maxDelay: 1000 } });
  const catalog = await identity('catalog', svc.service.tlsUrl!, { ttl: 60 });
  const server = createMtlsServer((_req, res) => res.end('ok'), { identity: catalog, allow: [{ spiffeId: `spiffe://${TD}/svc/orders` }] });
  const url = await listen(server);
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog` });
  const failedRenewals: IdentityEvent[] = [];
  orders.on('renewal_failed', (event) => failedRenewals.push(event));
  const firstSerial = orders.serial;
  const renewAt = orders.notBefore.getTime() + (orders.notAfter.getTime() - orders.notBefore.getTime()) * (2 / 3);
  try {
    proxy.up = false;
    // Load through the renewal point while the CA is away, then bring it back before expiry.
    const result = await loadLoop(`${url}/books`, agent, 2, () => {
      if (!proxy.up && Date.now() > renewAt + 1500) proxy.up = true;
      return proxy.up && orders.serial !== firstSerial;
    });
    assert.deepEqual(result.failures, []);
    assert.ok(failedRenewals.length >= 2, `retried ${failedRenewals.length} times`);
    const delays = failedRenewals.map((e) => (e as { retryIn: number }).retryIn);
    assert.ok(delays.every((d) => d >= 100 && d <= 1000), `backoff within bounds: ${delays}`);
    assert.notEqual(orders.serial, firstSerial, 'renewed once the CA was back');
    assert.ok(Date.now() < orders.notAfter.getTime());
  } finally {
    await agent.close();
    server.closeAllConnections();
    server.close();
    await orders.close();
    await catalog.close();
    proxy.close();
  }
});
