/**
 * Renewal in motion: a CA that is unreachable at renewal time (retries, the old certificate
 * keeps working, no request fails), renewal under a steady load loop (zero failures), when the
 * first attempt happens, the expiry gauge and the "expires soon" warning.
 * Short lifetimes: certificates of a few seconds renew at two thirds of their life. Deadlines
 * are generous (a loaded 2-core CI box) and the tests poll for events instead of sleeping.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { Registry } from 'prom-client';
import { startService, type TestService } from './helpers/service.ts';
import { switchableProxy } from './helpers/proxy.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity, type IdentityEvent } from '../src/sdk/index.ts';

const TD = 'td.test';
let svc: TestService;

async function identity(service: string, caUrl: string, options: Partial<Parameters<typeof workloadIdentity>[0]> = {}): Promise<WorkloadIdentity> {
  const { token } = await svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' });
  return workloadIdentity({ caUrl, service, joinToken: token, refreshInterval: 500, ...options });
}

/** catalog serves `ok` over mTLS to orders only; orders calls it through `agent`. close() ends both sides and both identities. */
async function ordersCallsCatalog(orders: WorkloadIdentity, catalog: WorkloadIdentity, agentOptions: { connections?: number } = {}) {
  const server = createMtlsServer((_req, res) => res.end('ok'), { identity: catalog, allow: [{ spiffeId: `spiffe://${TD}/svc/orders` }] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog`, ...agentOptions });
  return {
    url,
    agent,
    async close() {
      await agent.close();
      server.closeAllConnections();
      server.close();
      await orders.close();
      await catalog.close();
    },
  };
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
  const { url, agent, close } = await ordersCallsCatalog(orders, catalog, { connections: 4 });
  const serials = { orders: new Set([orders.serial]), catalog: new Set([catalog.serial]) };
  orders.on('changed', () => serials.orders.add(orders.serial));
  catalog.on('changed', () => serials.catalog.add(catalog.serial));
  try {
    // Load until both sides have renewed (due at 4 s of 6) and a little beyond, at most 15 s.
    const started = Date.now();
    let bothRenewedAt: number | undefined;
    const result = await loadLoop(`${url}/books`, agent, 4, () => {
      if (bothRenewedAt === undefined && serials.orders.size >= 2 && serials.catalog.size >= 2) bothRenewedAt = Date.now();
      return (bothRenewedAt !== undefined && Date.now() - bothRenewedAt > 300) || Date.now() - started > 15_000;
    });
    assert.deepEqual(result.failures, []);
    assert.ok(result.ok > 50, `only ${result.ok} requests`);
    assert.ok(serials.orders.size >= 2, 'the client renewed during the load');
    assert.ok(serials.catalog.size >= 2, 'the server renewed during the load');
  } finally {
    await close();
  }
});

test('ok: CA unreachable at renewal time — first attempt at 2/3 of the life, retries with backoff, the old certificate keeps working, no request fails', async () => {
  const proxy = await switchableProxy(new URL(svc.service.tlsUrl!));
  const orders = await identity('orders', proxy.url, { ttl: 8, retry: { initialDelay: 200, maxDelay: 1000 } });
  const catalog = await identity('catalog', svc.service.tlsUrl!, { ttl: 60 });
  const { url, agent, close } = await ordersCallsCatalog(orders, catalog);
  const failedRenewals: Array<IdentityEvent & { at: number }> = [];
  orders.on('renewal_failed', (event) => failedRenewals.push({ ...event, at: Date.now() }));
  const firstSerial = orders.serial;
  const [notBefore, notAfter] = [orders.notBefore.getTime(), orders.notAfter.getTime()];
  try {
    proxy.up = false;
    // Load through the renewal point while the CA is away; bring it back once two attempts have
    // failed (not after a fixed time), then wait for the renewal.
    const result = await loadLoop(`${url}/books`, agent, 2, () => {
      if (!proxy.up && failedRenewals.length >= 2) proxy.up = true;
      return (proxy.up && orders.serial !== firstSerial) || Date.now() > notAfter;
    });
    assert.deepEqual(result.failures, []);
    assert.notEqual(orders.serial, firstSerial, 'renewed once the CA was back, before the old certificate expired');
    assert.ok(failedRenewals.length >= 2, `retried ${failedRenewals.length} times`);
    const firstAttempt = (failedRenewals[0]!.at - notBefore) / (notAfter - notBefore);
    assert.ok(firstAttempt >= 0.6 && firstAttempt <= 0.75, `first renewal attempt at ${firstAttempt.toFixed(3)} of the lifetime`);
    const delays = failedRenewals.map((e) => (e as { retryIn: number }).retryIn);
    assert.ok(delays[0]! >= 100 && delays[0]! <= 200, `first retry in [d/2, d] of 200 ms: ${delays}`);
    assert.ok(delays.every((d) => d >= 100 && d <= 1000), `backoff within bounds: ${delays}`);
  } finally {
    await close();
    proxy.close();
  }
});

test('ok: the expiry gauge reports each identity of a shared registry; "expires soon" is logged and emitted once', async () => {
  const registry = new Registry();
  const warnings: Array<{ msg: string; obj: object }> = [];
  const logger = { info() {}, error() {}, warn: (obj: object, msg: string) => warnings.push({ obj, msg }) };
  // warnAt 0.9: "close to expiry" once a tenth of the 6 s lifetime has passed.
  const orders = await identity('orders', svc.service.tlsUrl!, { registry, logger, warnAt: 0.9, refreshInterval: 200 });
  const catalog = await identity('catalog', svc.service.tlsUrl!, { registry });
  try {
    const gauge = async () => Object.fromEntries(((await registry.getSingleMetric('gatehouse_workload_certificate_expiry_seconds')!.get()).values).map((v) => [v.labels.service, v.value]));
    const values = await gauge();
    assert.deepEqual(Object.keys(values).sort(), ['catalog', 'orders'], 'one gauge, one series per service');
    assert.equal(values.orders, orders.expiresIn());
    assert.ok(values.orders! > 0 && values.orders! <= 6, `orders expires in ${values.orders}`);
    assert.match(await registry.metrics(), /gatehouse_workload_certificate_expiry_seconds\{service="catalog"\} [0-9]+/);

    const expiring = await new Promise<IdentityEvent>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no expiring event')), 5000);
      orders.on('expiring', (event) => { clearTimeout(timer); resolve(event); });
    });
    assert.equal(expiring.type, 'expiring');
    assert.ok((expiring as { secondsLeft: number }).secondsLeft <= 6 * 0.9);
    const soon = warnings.filter((w) => /expires soon/.test(w.msg));
    assert.equal(soon.length, 1);
    assert.equal((soon[0]!.obj as { serial: string }).serial, orders.serial);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(warnings.filter((w) => /expires soon/.test(w.msg) && (w.obj as { serial: string }).serial === (soon[0]!.obj as { serial: string }).serial).length, 1, 'once per certificate');

    await catalog.close();
    assert.deepEqual(Object.keys(await gauge()), ['orders'], 'a closed identity leaves the gauge');
  } finally {
    await orders.close();
    await catalog.close();
  }
});
