/**
 * Enrollment and renewal over the real TLS listener, trust bundle and CRLs over HTTP, on
 * SQLite and PostgreSQL: every refusal issues nothing and writes an audit entry.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import type { Agent } from 'undici';
import { x509 } from '../src/x509/index.ts';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { makeCsr, foreignCa, craftLeaf, tlsAgent, postJson, type LeafProfile } from './helpers/pki.ts';
import type { Pki } from '../src/pki/index.ts';

await forEachDialect('pki enrollment and renewal', (dialect) => {
  let svc: TestService;
  let pki: Pki;
  let tlsUrl: string;
  let bundle: string;
  let anonymous: Agent;

  before(async () => {
    svc = await startService({ dialect, config: { pki: { trustDomain: 'td.test', dnsSuffixes: ['shop.local'] } } });
    pki = svc.service.context.pki;
    tlsUrl = svc.service.tlsUrl!;
    bundle = await (await fetch(`${svc.url}/pki/bundle.pem`)).text();
    anonymous = tlsAgent(bundle);
  });
  after(async () => {
    await anonymous.close();
    await svc.close();
  });

  const issuedCount = async () => Number((await svc.service.context.store.db.selectFrom('certificates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const lastRefusal = async () => (await svc.service.context.audit.list({ event: 'enrollment.refused' })).at(-1);
  const token = async (service = 'orders') => (await pki.mintJoinToken({ service, createdBy: 'test' })).token;
  const enroll = async (body: unknown) => postJson(`${tlsUrl}/pki/enroll`, body, anonymous);

  test('ok: bundle and CRLs are served as PEM with ETags (304 when unchanged)', async () => {
    assert.match(bundle, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(x509.PemConverter.decode(bundle).length, 1);
    for (const path of ['/pki/crl/root.crl', '/pki/crl/intermediate.crl']) {
      const res = await fetch(`${svc.url}${path}`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /^-----BEGIN X509 CRL-----/);
      const again = await fetch(`${svc.url}${path}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
      assert.equal(again.status, 304);
    }
    const der = await fetch(`${svc.url}/pki/crl/intermediate.crl`, { headers: { accept: 'application/pkix-crl' } });
    assert.equal(der.headers.get('content-type'), 'application/pkix-crl');
    assert.ok(new x509.X509Crl(await der.arrayBuffer()));
  });

  test('ok: the bundle revalidates with a weak or listed If-None-Match (RFC 9110 weak comparison)', async () => {
    const etag = (await fetch(`${svc.url}/pki/bundle.pem`)).headers.get('etag')!;
    for (const header of [`W/${etag}`, `"other", ${etag}`]) assert.equal((await fetch(`${svc.url}/pki/bundle.pem`, { headers: { 'if-none-match': header } })).status, 304, header);
  });

  test('ok: enrollment over TLS returns leaf + intermediate for the token\'s service, recorded and audited', async () => {
    const { csr } = await makeCsr({ cn: 'orders', dns: ['orders.shop.local'] });
    const res = await enroll({ token: await token(), csr });
    assert.equal(res.status, 200);
    const chain = x509.PemConverter.decode(res.body.certificate as string);
    assert.equal(chain.length, 2);
    assert.equal(res.body.spiffeId, 'spiffe://td.test/svc/orders');
    const row = (await pki.list({ service: 'orders' })).find((r) => r.serial === res.body.serial);
    assert.match(row!.requested_by, /^join-token:/);
    const issued = (await svc.service.context.audit.list({ event: 'cert.issued' })).at(-1)!;
    assert.equal(issued.subject, res.body.serial);
  });

  test('fail-plain-http: the plain listener refuses enrollment and renewal and says where TLS is', async () => {
    const count = await issuedCount();
    for (const [path, body] of [['/pki/enroll', { token: await token(), csr: (await makeCsr()).csr }], ['/pki/renew', { csr: (await makeCsr({ cn: 'orders' })).csr }]] as const) {
      const res = await postJson(`${svc.url}${path}`, body);
      assert.equal(res.status, 400, path);
      assert.equal(res.body.code, 'invalid_request', path);
      assert.match(String(res.body.detail), /TLS at https:/, path);
    }
    assert.equal(await issuedCount(), count);
  });

  test('fail-reused-token: a second use is refused, nothing issued, audit written', async () => {
    const t = await token();
    assert.equal((await enroll({ token: t, csr: (await makeCsr()).csr })).status, 200);
    const count = await issuedCount();
    const res = await enroll({ token: t, csr: (await makeCsr()).csr });
    assert.equal(res.status, 401);
    assert.equal(res.body.code, 'invalid_join_token');
    assert.equal(await issuedCount(), count);
    assert.equal((await lastRefusal())!.reason, 'token_used');
  });

  test('fail-racing-token: two enrollments racing with one join token get exactly one certificate', async () => {
    const t = await token();
    const count = await issuedCount();
    const [csrA, csrB] = await Promise.all([makeCsr(), makeCsr()]);
    const results = await Promise.all([enroll({ token: t, csr: csrA.csr }), enroll({ token: t, csr: csrB.csr })]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
    assert.equal(results.find((r) => r.status === 401)!.body.code, 'invalid_join_token');
    assert.equal(await issuedCount(), count + 1);
    assert.equal((await lastRefusal())!.reason, 'token_used');
  });

  test('fail-expired-token: refused, nothing issued, audit written', async () => {
    const minted = await pki.mintJoinToken({ service: 'orders', createdBy: 'test' });
    await svc.service.context.store.db.updateTable('join_tokens').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('id', '=', minted.id).execute();
    const count = await issuedCount();
    const res = await enroll({ token: minted.token, csr: (await makeCsr()).csr });
    assert.equal(res.body.code, 'invalid_join_token');
    assert.equal(await issuedCount(), count);
    assert.equal((await lastRefusal())!.reason, 'token_expired');
  });

  test('fail-wrong-secret: a forged secret for a real token id is refused and does not burn the token', async () => {
    const real = await token();
    const forged = real.replace(/^(ghjt\.[a-f0-9]+\.)[^.]+/, `$1${'A'.repeat(43)}`);
    assert.equal((await enroll({ token: forged, csr: (await makeCsr()).csr })).body.code, 'invalid_join_token');
    assert.equal((await lastRefusal())!.reason, 'unknown_token');
    assert.equal((await enroll({ token: real, csr: (await makeCsr()).csr })).status, 200);
  });

  test('fail-identity-not-granted: a CSR for another service is refused, nothing issued, audit written', async () => {
    const count = await issuedCount();
    const res = await enroll({ token: await token('orders'), csr: (await makeCsr({ uris: ['spiffe://td.test/svc/payments'] })).csr });
    assert.equal(res.status, 403);
    assert.equal(res.body.code, 'identity_not_allowed');
    assert.equal(await issuedCount(), count);
    assert.equal((await lastRefusal())!.reason, 'identity_not_allowed');
  });

  test('fail-server-name: a workload cannot get the names of the CA\'s own TLS listener (pki.serverNames) nor a foreign domain', async () => {
    const count = await issuedCount();
    for (const names of [{ dns: ['localhost'] }, { ips: ['127.0.0.1'] }, { ips: ['::1'] }, { dns: ['orders.evil.com'] }]) {
      const res = await enroll({ token: await token('orders'), csr: (await makeCsr({ cn: 'orders', ...names })).csr });
      assert.equal(res.status, 403, JSON.stringify(names));
      assert.equal(res.body.code, 'identity_not_allowed', JSON.stringify(names));
    }
    assert.equal(await issuedCount(), count);
  });

  test('fail-invalid-csr: a weak key is a 400 invalid_csr problem', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const csr = (await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } })).toString('pem');
    const res = await enroll({ token: await token(), csr });
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'invalid_csr');
    assert.equal(res.body.type, 'urn:gatehouse:error:invalid_csr');
  });

  test('fail-validation: a body without its token is a 422 naming the field', async () => {
    const res = await enroll({ csr: 'x' });
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'validation_failed');
    assert.deepEqual((res.body.errors as Array<{ path: string }>).map((e) => e.path), ['token']);
  });

  async function enrolled(service = 'orders') {
    const keyAndCsr = await makeCsr({ cn: service });
    const res = await enroll({ token: await token(service), csr: keyAndCsr.csr });
    return { key: keyAndCsr.keyPem, cert: res.body.certificate as string, serial: res.body.serial as string };
  }

  test('ok: renewal over mTLS issues the same identity and audits cert.renewed', async () => {
    const current = await enrolled();
    const client = tlsAgent(bundle, current);
    try {
      const res = await postJson(`${tlsUrl}/pki/renew`, { csr: (await makeCsr({ cn: 'orders' })).csr }, client);
      assert.equal(res.status, 200);
      assert.equal(res.body.spiffeId, 'spiffe://td.test/svc/orders');
      assert.notEqual(res.body.serial, current.serial);
      const renewed = (await svc.service.context.audit.list({ event: 'cert.renewed' })).at(-1)!;
      assert.equal(renewed.actor, `renewal:${current.serial}`);
    } finally {
      await client.close();
    }
  });

  test('fail-renew-other-identity: renewing orders into payments is refused', async () => {
    const current = await enrolled();
    const client = tlsAgent(bundle, current);
    try {
      const res = await postJson(`${tlsUrl}/pki/renew`, { csr: (await makeCsr({ uris: ['spiffe://td.test/svc/payments'] })).csr }, client);
      assert.equal(res.body.code, 'identity_not_allowed');
    } finally {
      await client.close();
    }
  });

  /** A leaf signed by OUR intermediate with the given (wrong) profile. */
  const craft = async (profile: LeafProfile) => {
    const a = await pki.authority();
    const l = await craftLeaf({ cert: a.intermediate.cert, key: a.intermediate.key! }, { uris: ['spiffe://td.test/svc/orders'], ...profile });
    return { key: l.keyPem, cert: l.chainPem };
  };

  const renewalRefusals: Array<[string, () => Promise<{ key: string; cert: string }>, string]> = [
    ['revoked', async () => { const c = await enrolled(); await pki.revoke({ serial: c.serial, actor: 'test' }); return c; }, 'certificate_revoked'],
    ['no-client-cert', async () => ({ key: '', cert: '' }), 'no_client_certificate'],
    ['foreign-ca', async () => { const ca = await foreignCa(); const l = await craftLeaf(ca, { uris: ['spiffe://td.test/svc/orders'] }); return { key: l.keyPem, cert: l.chainPem }; }, 'untrusted_certificate'],
    ['ca-cert-as-leaf', async () => { const a = await pki.authority(); const l = await craftLeaf({ cert: a.intermediate.cert, key: a.intermediate.key! }, { uris: ['spiffe://td.test/svc/orders'], ca: true }); return { key: l.keyPem, cert: l.chainPem }; }, 'ca_certificate'],
    ['expired', async () => craft({ notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) }), 'untrusted_certificate'],
    ['not-yet-valid', async () => craft({ notBefore: new Date(Date.now() + 3600_000), notAfter: new Date(Date.now() + 7200_000) }), 'untrusted_certificate'],
    ['no-client-auth', async () => craft({ eku: null }), 'missing_client_auth'],
    ['two-uri-sans', async () => craft({ uris: ['spiffe://td.test/svc/orders', 'spiffe://td.test/svc/payments'] }), 'uri_san_count'],
    ['other-trust-domain', async () => craft({ uris: ['spiffe://evil.test/svc/orders'] }), 'foreign_trust_domain'],
    ['not-recorded', async () => { const a = await pki.authority(); const l = await craftLeaf({ cert: a.intermediate.cert, key: a.intermediate.key! }, { uris: ['spiffe://td.test/svc/orders'] }); return { key: l.keyPem, cert: l.chainPem }; }, 'unknown_certificate'],
  ];
  for (const [name, credentials, reason] of renewalRefusals) {
    test(`fail-renew-${name}: refused with certificate_rejected, nothing issued, audit ${reason}`, async () => {
      const c = await credentials();
      const client = tlsAgent(bundle, c.key ? c : undefined);
      try {
        const count = await issuedCount();
        const res = await postJson(`${tlsUrl}/pki/renew`, { csr: (await makeCsr({ cn: 'orders' })).csr }, client);
        assert.equal(res.status, 401);
        assert.equal(res.body.code, 'certificate_rejected');
        assert.equal(await issuedCount(), count);
        const refusal = (await lastRefusal())!;
        assert.equal(refusal.reason, reason);
        assert.equal((refusal.data as { flow: string }).flow, 'renew');
      } finally {
        await client.close();
      }
    });
  }
});
