/**
 * Renewal after expiry (`pki.renewalGrace`) over the real TLS listener, on SQLite and PostgreSQL:
 * a certificate we issued, unrevoked, expired less than the grace ago is renewed; expired longer
 * ago, revoked, unknown or from another CA it is refused; with the grace off (the default) every
 * expired certificate is refused. Expired certificates are crafted with our intermediate's key
 * and recorded as issued, so no test waits for a certificate to expire.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeSerial } from '../src/x509/index.ts';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { makeCsr, foreignCa, craftLeaf, tlsAgent, postJson } from './helpers/pki.ts';

const TD = 'td.test';
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000);

await forEachDialect('pki renewal after expiry', (dialect) => {
  let graceful: TestService;
  let strict: TestService;

  before(async () => {
    [graceful, strict] = await Promise.all([
      startService({ dialect, config: { pki: { trustDomain: TD, renewalGrace: '1m' } } }),
      startService({ dialect, config: { pki: { trustDomain: TD } } }),
    ]);
  });
  after(async () => {
    await Promise.all([graceful.close(), strict.close()]);
  });

  /** A leaf signed by `svc`'s intermediate that expired `expiredSecondsAgo` ago, recorded as issued (unless `record` is false). */
  async function expiredLeaf(svc: TestService, expiredSecondsAgo: number, options: { record?: boolean; service?: string } = {}) {
    const service = options.service ?? 'orders';
    const a = await svc.service.context.pki.authority();
    const leaf = await craftLeaf({ cert: a.intermediate.cert, key: a.intermediate.key! }, { uris: [`spiffe://${TD}/svc/${service}`], notBefore: ago(expiredSecondsAgo + 600), notAfter: ago(expiredSecondsAgo) });
    const serial = normalizeSerial(leaf.serial);
    if (options.record !== false) {
      await svc.service.context.store.db.insertInto('certificates').values({
        serial, service, spiffe_id: `spiffe://${TD}/svc/${service}`, sans: '{"dns":[],"ips":[]}', not_before: Math.floor(ago(expiredSecondsAgo + 600).getTime() / 1000), not_after: Math.floor(ago(expiredSecondsAgo).getTime() / 1000),
        requested_by: 'test', status: 'valid', revoked_at: null, revocation_reason: null, cert_pem: leaf.certPem, created_at: 0, issuer_id: a.intermediate.id, spki_sha256: null,
      }).execute();
    }
    return { key: leaf.keyPem, cert: leaf.chainPem, serial };
  }

  async function renew(svc: TestService, client: { key: string; cert: string }, service = 'orders') {
    const agent = tlsAgent((await svc.service.context.pki.authority()).bundlePem, client);
    try {
      return await postJson(`${svc.service.tlsUrl}/pki/renew`, { csr: (await makeCsr({ cn: service })).csr }, agent);
    } finally {
      await agent.close();
    }
  }
  const lastRefusal = async (svc: TestService) => (await svc.service.context.audit.list({ event: 'enrollment.refused' })).at(-1)!;

  test('ok: a certificate expired 10 s ago (grace 1m) is renewed to the same identity, audited with expiredFor', async () => {
    const old = await expiredLeaf(graceful, 10);
    const res = await renew(graceful, old);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.spiffeId, `spiffe://${TD}/svc/orders`);
    assert.ok((res.body.notAfter as number) > Date.now() / 1000);
    const renewed = (await graceful.service.context.audit.list({ event: 'cert.renewed' })).at(-1)!;
    assert.equal(renewed.actor, `renewal:${old.serial}`);
    const expiredFor = (renewed.data as { expiredFor: number }).expiredFor;
    assert.ok(expiredFor >= 10 && expiredFor < 60, `expiredFor ${expiredFor}`);
  });

  test('fail-beyond-grace: a certificate expired 2 min ago (grace 1m) is refused with reason expired', async () => {
    const res = await renew(graceful, await expiredLeaf(graceful, 120));
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'certificate_rejected');
    assert.equal(res.body.reason, 'expired');
    assert.equal((await lastRefusal(graceful)).reason, 'expired');
  });

  test('fail-revoked: a revoked certificate expired within the grace is refused', async () => {
    const old = await expiredLeaf(graceful, 10);
    await graceful.service.context.store.db.updateTable('certificates').set({ status: 'revoked', revoked_at: 1, revocation_reason: 'keyCompromise' }).where('serial', '=', old.serial).execute();
    const res = await renew(graceful, old);
    assert.equal(res.status, 401);
    assert.equal(res.body.reason, 'certificate_revoked');
  });

  test('fail-unknown: an expired certificate signed by our intermediate but never issued is refused as unknown', async () => {
    const res = await renew(graceful, await expiredLeaf(graceful, 10, { record: false }));
    assert.equal(res.status, 401);
    assert.equal(res.body.reason, 'unknown_certificate');
  });

  test('fail-foreign-ca: an expired certificate from another CA is refused as untrusted, whatever OpenSSL reported', async () => {
    const leaf = await craftLeaf(await foreignCa(), { uris: [`spiffe://${TD}/svc/orders`], notBefore: ago(600), notAfter: ago(10) });
    const res = await renew(graceful, { key: leaf.keyPem, cert: leaf.chainPem });
    assert.equal(res.status, 401);
    assert.equal(res.body.reason, 'untrusted_certificate');
  });

  test('fail-wrong-profile: an expired certificate within the grace still passes the full leaf check (no clientAuth: refused)', async () => {
    const a = await graceful.service.context.pki.authority();
    const leaf = await craftLeaf({ cert: a.intermediate.cert, key: a.intermediate.key! }, { uris: [`spiffe://${TD}/svc/orders`], eku: null, notBefore: ago(600), notAfter: ago(10) });
    const res = await renew(graceful, { key: leaf.keyPem, cert: leaf.chainPem });
    assert.equal(res.status, 401);
    assert.equal(res.body.reason, 'missing_client_auth');
  });

  test('fail-grace-off: with pki.renewalGrace 0 (the default) a certificate expired 10 s ago is refused', async () => {
    const res = await renew(strict, await expiredLeaf(strict, 10));
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'certificate_rejected');
    assert.equal((await lastRefusal(strict)).reason, 'untrusted_certificate');
  });
});
