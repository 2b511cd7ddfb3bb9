/** The SDK's check of the CA's TLS certificate: the full server-leaf check plus the CA's SPIFFE ID. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerCertificate } from 'node:tls';
import { x509 } from '../x509/index.ts';
import { foreignCa, craftLeaf, type Issuer, type LeafProfile } from '../../test/helpers/pki.ts';
import { caServerIdentityCheck } from './ca-client.ts';

let ca: Issuer;
before(async () => { ca = await foreignCa('CN=Test CA'); });

async function check(profile: LeafProfile, trustDomain: string | undefined = 'td.test'): Promise<string | undefined> {
  const leaf = await craftLeaf(ca, profile);
  const raw = Buffer.from(new x509.X509Certificate(leaf.certPem).rawData);
  return caServerIdentityCheck(trustDomain)('127.0.0.1', { raw } as PeerCertificate)?.message;
}

const gatehouse = 'spiffe://td.test/svc/gatehouse';

test('ok: the CA\'s own server certificate is accepted, before and after the trust domain is known', async () => {
  assert.equal(await check({ uris: [gatehouse] }), undefined);
  assert.equal(await check({ uris: [gatehouse] }, undefined), undefined);
});

const refusals: Array<[string, LeafProfile, RegExp]> = [
  ['another-workload', { uris: ['spiffe://td.test/svc/orders'] }, /svc\/orders, expected/],
  ['no-server-auth', { uris: [gatehouse], eku: [x509.ExtendedKeyUsage.clientAuth] }, /missing_server_auth/],
  ['ca-certificate', { uris: [gatehouse], ca: true }, /ca_certificate/],
  ['key-cert-sign', { uris: [gatehouse], keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign }, /key_usage/],
  ['no-key-usage', { uris: [gatehouse], keyUsage: null }, /key_usage/],
  ['two-uri-sans', { uris: [gatehouse, 'spiffe://td.test/svc/orders'] }, /uri_san_count/],
  ['other-trust-domain', { uris: ['spiffe://evil.test/svc/gatehouse'] }, /foreign_trust_domain/],
  ['expired', { uris: [gatehouse], notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) }, /expired/],
];
for (const [name, profile, reason] of refusals) {
  test(`fail-${name}: the CA's certificate is refused`, async () => {
    assert.match((await check(profile)) ?? 'accepted', reason);
  });
}
