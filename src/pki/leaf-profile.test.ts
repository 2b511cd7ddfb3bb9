/**
 * The leaf fast path (./leaf-signer.ts: asn1-x509 TBSCertificate + node:crypto sign) must produce
 * exactly the certificate @peculiar/x509's X509CertificateGenerator would for the leaf profile
 * (docs/pki.md), and one that @peculiar/x509 and openssl both accept under our root.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, webcrypto } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { x509, signingAlgorithmFor } from '../x509/index.ts';
import { silentLogger } from '../shared/logger.ts';
import { createAuditLog } from '../events/audit.ts';
import { configSchema } from '../config/index.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import { createPki, type Authority } from './index.ts';

const TD = 'td.test';
// A fixed instant (whole seconds: X.509 validity has second precision).
const NOW = Date.UTC(2030, 0, 2, 3, 4, 5);
let closeStore: () => Promise<void>;
let authority: Authority;
let leafKeys: webcrypto.CryptoKeyPair;

before(async () => {
  const opened = await openTestStore();
  closeStore = opened.close;
  const config = configSchema.parse({ issuer: 'http://127.0.0.1:1', pki: { trustDomain: TD } });
  const pki = createPki({ store: opened.store, audit: createAuditLog(opened.store.db), config: config.pki, masterKey: randomBytes(32), clock: { now: () => NOW } as never, logger: silentLogger() });
  authority = (await pki.ensureInitialized()).authority;
  leafKeys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
});
after(async () => {
  await closeStore();
});

async function fastPathLeaf() {
  const publicKeyInfo = AsnConvert.parse(await webcrypto.subtle.exportKey('spki', leafKeys.publicKey), SubjectPublicKeyInfo);
  const signed = await authority.signLeaf({ publicKeyInfo, service: 'orders', dns: ['orders.shop.local', 'localhost'], ips: ['127.0.0.1'], ttlSeconds: 3600 });
  return { signed, cert: new x509.X509Certificate(signed.pem) };
}

/** What X509CertificateGenerator makes of the documented profile, for the same inputs. */
async function generatorLeaf(serial: string, notBefore: Date, notAfter: Date): Promise<x509.X509Certificate> {
  const issuer = authority.intermediate;
  return x509.X509CertificateGenerator.create({
    serialNumber: serial,
    // The profile encodes the subject as UTF8String (RFC 5280 §4.1.2.6); the generator's default is PrintableString.
    subject: new x509.Name([{ CN: [{ utf8String: 'orders' }] }, { O: [{ utf8String: TD }] }]),
    issuer: issuer.cert.subjectName,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: issuer.key!,
    signingAlgorithm: signingAlgorithmFor(issuer.key!),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([
        { type: 'url', value: `spiffe://${TD}/svc/orders` },
        { type: 'dns', value: 'orders.shop.local' },
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      new x509.AuthorityKeyIdentifierExtension(issuer.keyId),
    ],
  });
}

const hex = (data: ArrayBuffer) => Buffer.from(data).toString('hex');
const tbsOf = (cert: x509.X509Certificate) => hex(AsnConvert.serialize(AsnConvert.parse(cert.rawData, Certificate).tbsCertificate));
const extensionsOf = (cert: x509.X509Certificate) => Object.fromEntries(cert.extensions.map((e) => [e.type, { critical: e.critical, value: hex(e.value) }]));

test('ok: the fast path issues what X509CertificateGenerator would for the profile', async () => {
  const { signed, cert } = await fastPathLeaf();
  // Validity per the profile: back-dated by a tenth of the lifetime (at most 60 s).
  assert.equal(cert.notBefore.getTime(), NOW - 60_000);
  assert.equal(cert.notAfter.getTime(), NOW + 3600_000);
  const expected = await generatorLeaf(signed.serial, cert.notBefore, cert.notAfter);

  assert.equal(cert.serialNumber.replace(/^0+/, ''), expected.serialNumber.replace(/^0+/, ''));
  assert.equal(cert.subject, expected.subject);
  assert.equal(cert.issuer, expected.issuer);
  assert.equal(hex(cert.issuerName.toArrayBuffer()), hex(authority.intermediate.cert.subjectName.toArrayBuffer()));
  assert.deepEqual([cert.notBefore, cert.notAfter], [expected.notBefore, expected.notAfter]);
  assert.equal(hex(cert.publicKey.rawData), hex(expected.publicKey.rawData));
  assert.deepEqual(cert.signatureAlgorithm, expected.signatureAlgorithm);
  assert.deepEqual(extensionsOf(cert), extensionsOf(expected));
  assert.deepEqual(cert.extensions.map((e) => e.type), expected.extensions.map((e) => e.type), 'same extension order');
  assert.deepEqual(
    cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON(),
    [{ type: 'url', value: `spiffe://${TD}/svc/orders` }, { type: 'dns', value: 'orders.shop.local' }, { type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }],
  );
  // Byte for byte: everything but the (randomized ECDSA) signature is identical.
  assert.equal(tbsOf(cert), tbsOf(expected));
});

test('ok: leaves issued back to back carry their own names, lifetime and key (parts kept per identity and per second)', async () => {
  const requests = [
    { service: 'orders', dns: ['orders.shop.local'], ips: [], ttlSeconds: 3600 },
    { service: 'orders', dns: ['orders.shop.local', 'localhost'], ips: ['127.0.0.1'], ttlSeconds: 300 },
    { service: 'payments', dns: ['payments.shop.local'], ips: [], ttlSeconds: 3600 },
    { service: 'orders', dns: ['orders.shop.local'], ips: [], ttlSeconds: 3600 },
  ];
  for (const request of requests) {
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
    const signed = await authority.signLeaf({ publicKeyInfo: AsnConvert.parse(spki, SubjectPublicKeyInfo), ...request });
    const cert = new x509.X509Certificate(signed.pem);
    assert.equal(cert.subject, `CN=${request.service}, O=${TD}`);
    assert.deepEqual(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON(), [
      { type: 'url', value: `spiffe://${TD}/svc/${request.service}` },
      ...request.dns.map((value) => ({ type: 'dns', value })),
      ...request.ips.map((value) => ({ type: 'ip', value })),
    ]);
    assert.equal(cert.notAfter.getTime(), NOW + request.ttlSeconds * 1000);
    assert.equal(cert.notBefore.getTime(), NOW - Math.min(60, request.ttlSeconds / 10) * 1000);
    assert.equal(hex(cert.publicKey.rawData), hex(spki));
    assert.equal(await cert.verify({ publicKey: authority.intermediate.cert.publicKey, date: new Date(NOW) }), true);
  }
});

test('ok: the fast-path leaf verifies with @peculiar/x509 against the intermediate', async () => {
  const { cert } = await fastPathLeaf();
  assert.equal(await cert.verify({ publicKey: authority.intermediate.cert.publicKey, date: new Date(NOW) }), true);
  assert.equal(await cert.verify({ publicKey: authority.root.cert.publicKey, signatureOnly: true }), false, 'signed by the intermediate, not the root');
});

test('ok: openssl verify accepts the fast-path leaf under root + untrusted intermediate, for client and server use', async () => {
  const { signed } = await fastPathLeaf();
  const dir = mkdtempSync(join(tmpdir(), 'gh-leaf-'));
  try {
    writeFileSync(join(dir, 'root.pem'), authority.root.pem);
    writeFileSync(join(dir, 'intermediate.pem'), authority.intermediate.pem);
    writeFileSync(join(dir, 'leaf.pem'), signed.pem);
    const attime = String(Math.floor(NOW / 1000));
    for (const purpose of ['sslclient', 'sslserver']) {
      const out = execFileSync('openssl', ['verify', '-attime', attime, '-purpose', purpose, '-CAfile', join(dir, 'root.pem'), '-untrusted', join(dir, 'intermediate.pem'), join(dir, 'leaf.pem')], { encoding: 'utf8' });
      assert.match(out, /leaf\.pem: OK/);
    }
    // And it is the intermediate that makes the chain: without it openssl refuses.
    assert.throws(() => execFileSync('openssl', ['verify', '-attime', attime, '-CAfile', join(dir, 'root.pem'), join(dir, 'leaf.pem')], { stdio: 'pipe' }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
