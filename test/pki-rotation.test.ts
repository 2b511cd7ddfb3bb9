/**
 * A CA rotation done by another process (the CLI: a second CA instance on the same store) while
 * the service and its workloads run, on SQLite and PostgreSQL: prepare publishes the next root,
 * workloads trust both, activate switches issuance; old-chain and new-chain workloads call each
 * other over mTLS both ways, a revoked old-chain leaf stays refused, renewal moves to the new chain.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { request, type Dispatcher } from 'undici';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { createPki, type Pki } from '../src/pki/index.ts';
import { createAuditLog } from '../src/events/audit.ts';
import { silentLogger } from '../src/shared/logger.ts';
import { systemClock } from '../src/shared/clock.ts';
import { parseCertificates, fingerprintSha256 } from '../src/x509/index.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity } from '../src/sdk/index.ts';

const TD = 'td.test';
const id = (service: string) => `spiffe://${TD}/svc/${service}`;

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeout = 8000): Promise<void> {
  const end = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const intermediateOf = (identity: WorkloadIdentity) => parseCertificates(identity.credentials().cert)[1]!.subject;

await forEachDialect('pki CA rotation with running workloads', (dialect) => {
  let svc: TestService;
  let cliStore: Store;
  let cli: Pki;
  const identities: WorkloadIdentity[] = [];
  const servers: Server[] = [];
  const agents: Dispatcher[] = [];
  let orders: WorkloadIdentity;
  let payments: WorkloadIdentity;
  let billing: WorkloadIdentity;
  let ordersUrl: string;
  let billingUrl: string;
  let oldIntermediate: string;

  const identityFor = async (service: string): Promise<WorkloadIdentity> => {
    const { token } = await svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' });
    const identity = await workloadIdentity({ caUrl: svc.service.tlsUrl!, service, joinToken: token, refreshInterval: 200 });
    identities.push(identity);
    return identity;
  };
  const serve = async (identity: WorkloadIdentity): Promise<string> => {
    const server = createMtlsServer((req, res) => res.end(JSON.stringify({ caller: req.spiffeId })), { identity, allow: [{ spiffeId: '*' }] });
    servers.push(server);
    return listen(server);
  };
  const call = async (from: WorkloadIdentity, url: string, to: string) => {
    const agent = mtlsAgent(from, { expect: id(to) });
    agents.push(agent);
    const res = await request(`${url}/hello`, { dispatcher: agent });
    return { status: res.statusCode, body: await res.body.text() };
  };
  const bundleRoots = async () => parseCertificates(await (await fetch(`${svc.url}/pki/bundle.pem`)).text()).length;

  before(async () => {
    svc = await startService({ dialect, config: { pki: { trustDomain: TD, caCheckInterval: 1 } } });
    // "The CLI": another CA instance with its own connection to the same store.
    cliStore = openStore({ url: svc.config.database.url, dataDir: svc.dataDir, poolSize: 2 });
    cli = createPki({ store: cliStore, audit: createAuditLog(cliStore.db, systemClock), config: svc.config.pki, masterKey: svc.service.context.masterKey, clock: systemClock, logger: silentLogger() });
    orders = await identityFor('orders');
    payments = await identityFor('payments');
    oldIntermediate = intermediateOf(orders);
    ordersUrl = await serve(orders);
  });
  after(async () => {
    for (const agent of agents) await agent.close().catch(() => {});
    for (const server of servers) { server.closeAllConnections(); server.close(); }
    for (const identity of identities) await identity.close();
    await cliStore.close();
    await svc.close();
  });

  test('ok: prepare publishes the next root; running workloads trust both roots before anything is signed by it', async () => {
    assert.equal(await bundleRoots(), 1);
    await cli.rotate('prepare', 'test');
    await waitFor('the service to serve two roots', async () => (await bundleRoots()) === 2);
    await waitFor('the workloads to reload the bundle', () => [orders, payments].every((w) => parseCertificates(w.credentials().ca).length === 2));
    const crl = await (await fetch(`${svc.url}/pki/crl/intermediate.crl`)).text();
    assert.equal((crl.match(/BEGIN X509 CRL/g) ?? []).length, 2, 'one CRL per trusted intermediate');
    assert.equal((await call(payments, ordersUrl, 'orders')).status, 200);
  });

  test('ok: after activate, old-chain and new-chain workloads call each other over mTLS both ways', async () => {
    await cli.rotate('activate', 'test');
    const newRoot = fingerprintSha256((await cli.authority()).root.cert);
    await waitFor('tokens to pin the new root', async () => (await svc.service.context.pki.mintJoinToken({ service: 'billing', createdBy: 'test' })).rootFingerprint === newRoot);
    // The listener re-issues its own certificate from the new chain within pki.caCheckInterval.
    await waitFor('a new-chain workload to enroll', async () => {
      try { billing = await identityFor('billing'); return true; } catch { return false; }
    });
    assert.notEqual(intermediateOf(billing), oldIntermediate);
    assert.equal(intermediateOf(orders), oldIntermediate);
    assert.equal(parseCertificates(billing.credentials().ca).length, 2, 'the retired root is still trusted');
    billingUrl = await serve(billing);
    assert.deepEqual(await call(orders, billingUrl, 'billing'), { status: 200, body: JSON.stringify({ caller: id('orders') }) });
    assert.deepEqual(await call(billing, ordersUrl, 'orders'), { status: 200, body: JSON.stringify({ caller: id('billing') }) });
    assert.equal(await bundleRoots(), 2);
  });

  test('fail-revoked-old-chain: an old-chain leaf revoked after activation is refused by new-chain and old-chain servers', async () => {
    assert.equal((await call(payments, billingUrl, 'billing')).status, 200);
    await cli.revoke({ service: 'payments', reason: 'keyCompromise', actor: 'test' });
    await waitFor('workloads to load the old intermediate\'s CRL', () => billing.isRevoked(payments.serial) && orders.isRevoked(payments.serial));
    assert.equal((await call(payments, billingUrl, 'billing')).status, 401);
    assert.equal((await call(payments, ordersUrl, 'orders')).status, 401);
  });

  test('ok: renewal after activation yields a new-chain certificate that keeps working', async () => {
    const before = orders.serial;
    await orders.renewNow();
    assert.notEqual(orders.serial, before);
    assert.equal(intermediateOf(orders), intermediateOf(billing));
    assert.equal((await call(orders, billingUrl, 'billing')).status, 200);
    assert.equal((await call(billing, ordersUrl, 'orders')).status, 200);
  });
});
