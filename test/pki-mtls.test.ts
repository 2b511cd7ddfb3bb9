/**
 * SDK mTLS against a real CA: workloads enroll with join tokens, call each other through
 * createMtlsServer / mtlsAgent, and every bad client certificate is refused with its reason.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect } from 'node:tls';
import { request } from 'undici';
import { normalizeSerial } from '../src/x509/index.ts';
import { startService, type TestService } from './helpers/service.ts';
import { craftLeaf, foreignCa, tlsAgent, get, type Issuer } from './helpers/pki.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity } from '../src/sdk/index.ts';

const TD = 'td.test';
let svc: TestService;
let orders: WorkloadIdentity;
let catalog: WorkloadIdentity;
let catalogServer: Server;
let catalogUrl: string;
let intermediate: Issuer;
const refusals: Array<{ reason: string; msg: string }> = [];
const logger = {
  info() {},
  warn(obj: object, msg: string) { refusals.push({ reason: String((obj as { reason?: string }).reason), msg }); },
  error() {},
};

async function identityFor(service: string): Promise<WorkloadIdentity> {
  const { token } = await svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' });
  return workloadIdentity({ caUrl: svc.service.tlsUrl!, service, joinToken: token, refreshInterval: 300 });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  svc = await startService({ config: { pki: { trustDomain: TD } } });
  orders = await identityFor('orders');
  catalog = await identityFor('catalog');
  catalogServer = createMtlsServer((req, res) => res.end(JSON.stringify({ caller: req.spiffeId })), {
    identity: catalog,
    allow: [{ spiffeId: `spiffe://${TD}/svc/orders`, methods: ['GET'], paths: ['/books/*'] }],
    logger,
  });
  catalogUrl = await listen(catalogServer);
  const a = await svc.service.context.pki.authority();
  intermediate = { cert: a.intermediate.cert, key: a.intermediate.key! };
});
after(async () => {
  catalogServer.closeAllConnections();
  catalogServer.close();
  await orders.close();
  await catalog.close();
  await svc.close();
});

test('ok: orders calls catalog over mTLS and catalog sees its SPIFFE ID', async () => {
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog` });
  try {
    const res = await request(`${catalogUrl}/books/1`, { dispatcher: agent });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { caller: `spiffe://${TD}/svc/orders` });
  } finally {
    await agent.close();
  }
});

test('fail-not-allowed: catalog calling orders is refused with 403 and a logged reason', async () => {
  const ordersServer = createMtlsServer((_req, res) => res.end('ok'), { identity: orders, allow: [{ spiffeId: `spiffe://${TD}/svc/gateway` }], logger });
  const url = await listen(ordersServer);
  const agent = mtlsAgent(catalog, { expect: `spiffe://${TD}/svc/orders` });
  try {
    const res = await request(`${url}/orders`, { dispatcher: agent });
    assert.equal(res.statusCode, 403);
    assert.equal(((await res.body.json()) as { code: string }).code, 'forbidden');
    assert.match(refusals.at(-1)!.reason, /no allow rule for spiffe:\/\/td\.test\/svc\/catalog/);
  } finally {
    await agent.close();
    ordersServer.closeAllConnections();
    ordersServer.close();
  }
});

test('fail-route-not-allowed: an allowed caller on another method or path gets 403', async () => {
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog` });
  try {
    assert.equal((await request(`${catalogUrl}/admin`, { dispatcher: agent })).statusCode, 403);
    assert.equal((await request(`${catalogUrl}/books/1`, { method: 'DELETE', dispatcher: agent })).statusCode, 403);
    assert.equal((await request(`${catalogUrl}/books/../admin`, { dispatcher: agent })).statusCode, 403);
  } finally {
    await agent.close();
  }
});

test('fail-wrong-server-identity: the agent refuses a server whose SPIFFE ID is not the expected one', async () => {
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/payments` });
  try {
    await assert.rejects(request(`${catalogUrl}/books/1`, { dispatcher: agent }), /server identity mismatch/);
  } finally {
    await agent.close();
  }
});

test('fail-tls12-client: createMtlsServer refuses a TLS 1.2-only client, even with a valid certificate', async () => {
  const { hostname, port } = new URL(catalogUrl);
  const c = orders.credentials();
  const outcome = await new Promise<string>((resolve) => {
    const socket = connect({ host: hostname, port: Number(port), key: c.key, cert: c.cert, ca: c.ca, checkServerIdentity: () => undefined, maxVersion: 'TLSv1.2' }, () => {
      resolve(`connected with ${socket.getProtocol()}`);
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  assert.match(outcome, /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
});

test('fail-tls12-server: mtlsAgent refuses a server that offers only TLS 1.2', async () => {
  const c = catalog.credentials();
  const legacy = createHttpsServer({ key: c.key, cert: c.cert, ca: c.ca, requestCert: true, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, (_req, res) => res.end('ok'));
  const url = await listen(legacy);
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog` });
  try {
    await assert.rejects(request(`${url}/books/1`, { dispatcher: agent }), (error: NodeJS.ErrnoException) => /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/.test(`${error.code} ${error.message}`));
  } finally {
    await agent.close();
    legacy.closeAllConnections();
    legacy.close();
  }
});

const badClients: Array<[string, () => Promise<{ key: string; cert: string }>, string]> = [
  ['another-ca', async () => { const l = await craftLeaf(await foreignCa(), { uris: [`spiffe://${TD}/svc/orders`] }); return { key: l.keyPem, cert: l.chainPem }; }, 'untrusted_certificate'],
  ['expired', async () => { const l = await craftLeaf(intermediate, { uris: [`spiffe://${TD}/svc/orders`], notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) }); return { key: l.keyPem, cert: l.chainPem }; }, 'untrusted_certificate'],
  ['not-yet-valid', async () => { const l = await craftLeaf(intermediate, { uris: [`spiffe://${TD}/svc/orders`], notBefore: new Date(Date.now() + 3600_000), notAfter: new Date(Date.now() + 7200_000) }); return { key: l.keyPem, cert: l.chainPem }; }, 'untrusted_certificate'],
  ['ca-cert-as-leaf', async () => { const l = await craftLeaf(intermediate, { uris: [`spiffe://${TD}/svc/orders`], ca: true }); return { key: l.keyPem, cert: l.chainPem }; }, 'ca_certificate'],
  ['no-client-auth', async () => { const l = await craftLeaf(intermediate, { uris: [`spiffe://${TD}/svc/orders`], eku: null }); return { key: l.keyPem, cert: l.chainPem }; }, 'missing_client_auth'],
  ['two-uri-sans', async () => { const l = await craftLeaf(intermediate, { uris: [`spiffe://${TD}/svc/orders`, `spiffe://${TD}/svc/admin`] }); return { key: l.keyPem, cert: l.chainPem }; }, 'uri_san_count'],
  ['other-trust-domain', async () => { const l = await craftLeaf(intermediate, { uris: ['spiffe://evil.test/svc/orders'] }); return { key: l.keyPem, cert: l.chainPem }; }, 'foreign_trust_domain'],
  ['no-certificate', async () => ({ key: '', cert: '' }), 'no_client_certificate'],
];
for (const [name, credentials, reason] of badClients) {
  test(`fail-${name}: the mTLS server refuses the client (401) and logs ${reason}`, async () => {
    const c = await credentials();
    const agent = tlsAgent(catalog.credentials().ca, c.key ? c : undefined);
    try {
      const res = await get(`${catalogUrl}/books/1`, agent);
      // The server accepts every handshake so that it can answer and log the reason itself.
      assert.equal(res.status, 401, res.text);
      assert.equal(refusals.at(-1)!.reason, reason);
    } finally {
      await agent.close();
    }
  });
}

test('fail-revoked: a revoked client is refused, and a kept-alive connection is cut off within seconds', async () => {
  const payments = await identityFor('payments');
  const server = createMtlsServer((_req, res) => res.end('ok'), { identity: catalog, allow: [{ spiffeId: `spiffe://${TD}/svc/payments` }], logger });
  const url = await listen(server);
  // One connection, kept alive, opened before the revocation.
  const agent = tlsAgent(payments.credentials().ca, { key: payments.credentials().key, cert: payments.credentials().cert });
  try {
    assert.equal((await get(`${url}/x`, agent)).status, 200);
    await svc.service.context.pki.revoke({ serial: payments.serial, actor: 'test' });
    // Polls every 50 ms; "within seconds" is proven with room for a loaded 2-core CI box
    // (refreshInterval here is 300 ms, so it typically takes well under a second).
    const started = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - started < 10_000) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await get(`${url}/x`, agent)).status;
    }
    assert.equal(status, 401, 'cut off');
    assert.ok(Date.now() - started <= 8000, `took ${Date.now() - started} ms`);
    assert.equal(refusals.at(-1)!.reason, 'certificate_revoked');
    // A new connection with the revoked certificate is refused too.
    const fresh = tlsAgent(payments.credentials().ca, { key: payments.credentials().key, cert: payments.credentials().cert });
    assert.equal((await get(`${url}/x`, fresh)).status, 401);
    await fresh.close();
  } finally {
    await agent.close();
    server.closeAllConnections();
    server.close();
    await payments.close();
  }
});

/** The serial of the certificate a fresh TLS handshake with `url` presents. */
function presentedSerial(url: string, client: WorkloadIdentity): Promise<string> {
  const { key, cert, ca } = client.credentials();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(url).port), key, cert, ca, checkServerIdentity: () => undefined }, () => {
      resolve(normalizeSerial(socket.getPeerCertificate().serialNumber));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

test('ok: after the server identity renews, a new TLS connection sees the new certificate (hot swap)', async () => {
  const billing = await identityFor('billing');
  const server = createMtlsServer((_req, res) => res.end('ok'), { identity: billing, allow: [{ spiffeId: '*' }], logger });
  const url = await listen(server);
  try {
    const first = billing.serial;
    assert.equal(await presentedSerial(url, orders), normalizeSerial(first));
    await billing.renewNow();
    assert.notEqual(billing.serial, first);
    assert.equal(await presentedSerial(url, orders), normalizeSerial(billing.serial), 'setSecureContext swapped the certificate');
  } finally {
    server.closeAllConnections();
    server.close();
    await billing.close();
  }
});

test('fail-revoked-server: the agent refuses a server whose certificate is revoked', async () => {
  const shipping = await identityFor('shipping');
  const server = createMtlsServer((_req, res) => res.end('ok'), { identity: shipping, allow: [{ spiffeId: '*' }], logger });
  const url = await listen(server);
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/shipping` });
  try {
    assert.equal((await request(`${url}/x`, { dispatcher: agent })).statusCode, 200);
    await svc.service.context.pki.revoke({ serial: shipping.serial, actor: 'test' });
    await orders.refreshTrust();
    await assert.rejects(request(`${url}/x`, { dispatcher: agent }), /revoked/);
  } finally {
    await agent.close();
    server.closeAllConnections();
    server.close();
    await shipping.close();
  }
});

test('fail-bad-token: workloadIdentity rejects with the CA\'s reason', async () => {
  const { token } = await svc.service.context.pki.mintJoinToken({ service: 'orders', createdBy: 'test' });
  await assert.rejects(workloadIdentity({ caUrl: svc.service.tlsUrl!, service: 'payments', joinToken: token }), /identity_not_allowed|CA issued/);
  await assert.rejects(workloadIdentity({ caUrl: svc.service.tlsUrl!, service: 'orders', joinToken: token }), /invalid_join_token/);
});

test('fail-wrong-fingerprint: enrollment refuses a CA whose root is not the pinned one', async () => {
  const { token } = await svc.service.context.pki.mintJoinToken({ service: 'orders', createdBy: 'test' });
  const forged = token.replace(/[a-f0-9]{64}$/, 'ab'.repeat(32));
  await assert.rejects(workloadIdentity({ caUrl: svc.service.tlsUrl!, service: 'orders', joinToken: forged }), /pinned fingerprint/);
});
