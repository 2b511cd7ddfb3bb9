/**
 * A CRL far past its nextUpdate means the revocation status of peers is unknown: beyond
 * `maxCrlStaleness` the SDK refuses callers (createMtlsServer) and servers (mtlsAgent). The CA
 * here runs 30 minutes behind, so every CRL it signs (crlTtl 10 min) is already 20 minutes past
 * nextUpdate when a workload loads it, while its certificates are still valid.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { request } from 'undici';
import { startService, type TestService } from './helpers/service.ts';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity, type IdentityEvent } from '../src/sdk/index.ts';

const TD = 'td.test';
const BEHIND = 30 * 60_000;
let svc: TestService;
const opened: WorkloadIdentity[] = [];
const servers: Server[] = [];
const warnings: Array<{ reason?: string; detail?: string }> = [];
const errors: string[] = [];
const logger = { info() {}, warn(obj: object) { warnings.push(obj as { reason?: string }); }, error(_obj: object, msg: string) { errors.push(msg); } };

async function identityFor(service: string, maxCrlStaleness?: number): Promise<WorkloadIdentity> {
  const { token } = await svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' });
  const identity = await workloadIdentity({ caUrl: svc.service.tlsUrl!, service, joinToken: token, logger, ...(maxCrlStaleness === undefined ? {} : { maxCrlStaleness }) });
  opened.push(identity);
  return identity;
}

async function serve(identity: WorkloadIdentity): Promise<string> {
  const server = createMtlsServer((req, res) => res.end(req.spiffeId), { identity, allow: [{ spiffeId: '*' }], logger });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  svc = await startService({ config: { pki: { trustDomain: TD, crlTtl: '10m' } }, clock: { now: () => Date.now() - BEHIND } });
});
after(async () => {
  for (const server of servers) { server.closeAllConnections(); server.close(); }
  for (const identity of opened) await identity.close();
  await svc.close();
});

test('ok: within the default maxCrlStaleness (24 h) a CRL past nextUpdate is still used', async () => {
  const orders = await identityFor('orders');
  const catalog = await identityFor('catalog');
  assert.equal(orders.crlStale(), undefined);
  const agent = mtlsAgent(orders, { expect: `spiffe://${TD}/svc/catalog` });
  try {
    const res = await request(`${await serve(catalog)}/x`, { dispatcher: agent });
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), `spiffe://${TD}/svc/orders`);
  } finally {
    await agent.close();
  }
});

test('fail-crl-stale-server: createMtlsServer refuses callers (503 crl_stale, logged) once its CRL is older than maxCrlStaleness', async () => {
  const fresh = await identityFor('orders');
  const stale = await identityFor('billing', 60_000);
  const events: IdentityEvent[] = [];
  stale.on('crl_stale', (event) => events.push(event));
  const agent = mtlsAgent(fresh, { expect: `spiffe://${TD}/svc/billing` });
  try {
    const res = await request(`${await serve(stale)}/x`, { dispatcher: agent });
    assert.equal(res.statusCode, 503);
    assert.equal(((await res.body.json()) as { code: string }).code, 'crl_stale');
    assert.equal(warnings.at(-1)!.reason, 'crl_stale');
    assert.match(warnings.at(-1)!.detail!, /maxCrlStaleness/);
    assert.equal(events[0]?.type, 'crl_stale');
    assert.match(errors.at(-1)!, /refusing mTLS peers: the CRL expired at/);
  } finally {
    await agent.close();
  }
});

test('fail-crl-stale-agent: mtlsAgent refuses a server once its CRL is older than maxCrlStaleness', async () => {
  const stale = await identityFor('shipping', 60_000);
  const catalog = await identityFor('catalog');
  assert.match(stale.crlStale()!, /revocation status unknown/);
  const agent = mtlsAgent(stale, { expect: `spiffe://${TD}/svc/catalog` });
  try {
    await assert.rejects(request(`${await serve(catalog)}/x`, { dispatcher: agent }), /refused: the CRL expired at .*maxCrlStaleness/);
  } finally {
    await agent.close();
  }
});
