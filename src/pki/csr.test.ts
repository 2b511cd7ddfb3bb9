import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto, createHash, createPrivateKey, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { CertificationRequest, CertificationRequestInfo } from '@peculiar/asn1-csr';
import { AlgorithmIdentifier, AttributeTypeAndValue, AttributeValue, Name, RelativeDistinguishedName, SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { x509 } from '../x509/index.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { parseCsr, authorizeNames, namePolicy } from './csr.ts';
import { encoded } from './encoded.ts';
import { makeCsr } from '../../test/helpers/pki.ts';

const grant = { trustDomain: 'td.test', service: 'orders' };
/** The defaults: no suffix, no loopback names, the TLS listener's names reserved. */
const strict = namePolicy({ dnsSuffixes: [], allowLoopbackNames: false, serverNames: ['localhost', '127.0.0.1'] });
const withSuffixes = namePolicy({ dnsSuffixes: ['shop.svc.cluster.local', 'Internal.Example'], allowLoopbackNames: false, serverNames: ['localhost', '127.0.0.1'] });
const withLoopback = namePolicy({ dnsSuffixes: [], allowLoopbackNames: true, serverNames: ['localhost', '127.0.0.1', 'ca.internal'] });

async function code(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
    return undefined;
  } catch (error) {
    return isGatehouseError(error) ? error.code : `uncoded: ${(error as Error).message}`;
  }
}

test('ok: a P-256 CSR with the bare service name is parsed and granted under the default policy', async () => {
  const { csr } = await makeCsr({ cn: 'orders', dns: ['orders'], uris: ['spiffe://td.test/svc/orders'] });
  assert.deepEqual(authorizeNames(await parseCsr(csr), grant, strict), { dns: ['orders'], ips: [] });
});

test('ok: <service>.<suffix> is granted for each configured suffix (pki.dnsSuffixes)', async () => {
  const { csr } = await makeCsr({ cn: 'orders.shop.svc.cluster.local', dns: ['orders', 'orders.shop.svc.cluster.local', 'orders.internal.example'] });
  assert.deepEqual(authorizeNames(await parseCsr(csr), grant, withSuffixes), { dns: ['orders', 'orders.shop.svc.cluster.local', 'orders.internal.example'], ips: [] });
});

test('ok: loopback names other than the server names are granted with pki.allowLoopbackNames', async () => {
  const { csr } = await makeCsr({ cn: 'orders', dns: ['orders'], ips: ['127.0.0.2', '::1'] });
  assert.deepEqual(authorizeNames(await parseCsr(csr), grant, withLoopback), { dns: ['orders'], ips: ['127.0.0.2', '::1'] });
});

test('ok: Ed25519 and P-384 keys are accepted', async () => {
  const ed = await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']) as unknown as webcrypto.CryptoKeyPair;
  const edCsr = await x509.Pkcs10CertificateRequestGenerator.create({ keys: ed, signingAlgorithm: { name: 'Ed25519' } });
  assert.equal((await parseCsr(edCsr.toString('pem'))).publicKeyInfo.algorithm.algorithm, '1.3.101.112');
  const p384 = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, true, ['sign', 'verify']);
  await parseCsr((await makeCsr({ keys: p384 })).csr);
});

test('fail-weak-rsa: an RSA-1024 key is refused with invalid_csr', async () => {
  const keys = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } });
  assert.equal(await code(parseCsr(csr.toString('pem'))), 'invalid_csr');
});

/** A CSR made by openssl (key types and digests WebCrypto cannot produce). */
function opensslCsr(newKey: string[], extra: string[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-csr-'));
  try {
    execFileSync('openssl', ['req', '-new', ...newKey, ...extra, '-nodes', '-keyout', join(dir, 'k.pem'), '-subj', '/CN=orders', '-out', join(dir, 'r.csr')], { stdio: 'ignore' });
    return readFileSync(join(dir, 'r.csr'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function refusal(pem: unknown): Promise<{ code: string; description: string }> {
  try {
    await parseCsr(pem);
  } catch (error) {
    if (isGatehouseError(error)) return { code: error.code, description: error.description };
    return { code: `uncoded: ${(error as Error).message}`, description: '' };
  }
  return { code: 'accepted', description: '' };
}

// These keys parse with @peculiar/x509 but its verify() throws: the key type is checked first.
for (const [name, newKey] of [['secp256k1', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1']], ['P-192', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-192']]] as const) {
  test(`fail-unsupported-curve: a ${name} CSR is invalid_csr naming the key type`, async () => {
    const result = await refusal(opensslCsr([...newKey]));
    assert.equal(result.code, 'invalid_csr');
    assert.match(result.description, /key type is not supported/);
  });
}

test('fail-dsa: a DSA CSR is invalid_csr naming the key type', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dsa-'));
  try {
    execFileSync('openssl', ['genpkey', '-genparam', '-algorithm', 'DSA', '-pkeyopt', 'dsa_paramgen_bits:1024', '-out', join(dir, 'p.pem')], { stdio: 'ignore' });
    const result = await refusal(opensslCsr(['-newkey', `param:${join(dir, 'p.pem')}`]));
    assert.equal(result.code, 'invalid_csr');
    assert.match(result.description, /key type is not supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fail-weak-digest: a P-256 CSR validly signed with ECDSA-SHA1 is invalid_csr', async () => {
  const result = await refusal(opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-sha1']));
  assert.equal(result.code, 'invalid_csr');
  assert.match(result.description, /signature algorithm/);
});

test('fail-algorithm-mismatch: an EC key with an RSA signature algorithm is invalid_csr before any verification', async () => {
  const request = AsnConvert.parse(x509.PemConverter.decodeFirst((await makeCsr({ cn: 'orders' })).csr), CertificationRequest);
  request.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: null });
  const result = await refusal(x509.PemConverter.encode(AsnConvert.serialize(request), 'CERTIFICATE REQUEST'));
  assert.equal(result.code, 'invalid_csr');
  assert.match(result.description, /signature algorithm does not fit its ECDSA key/);
});

// RSA is checked by node:crypto on the hot path: PKCS#1 v1.5 and PSS signatures, RSA and RSA-PSS keys.
const rsaCases: Array<[string, string[], string[], 'accepted' | 'invalid_csr']> = [
  ['RSA-2048 with PKCS#1 v1.5 SHA-256', ['-newkey', 'rsa:2048'], ['-sha256'], 'accepted'],
  ['RSA-2048 with PSS SHA-256', ['-newkey', 'rsa:2048'], ['-sha256', '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], 'accepted'],
  ['an RSA-PSS key with PSS SHA-384', ['-newkey', 'rsa-pss', '-pkeyopt', 'rsa_keygen_bits:2048'], ['-sha384', '-sigopt', 'rsa_padding_mode:pss'], 'accepted'],
  ['RSA-2048 with PSS SHA-1', ['-newkey', 'rsa:2048'], ['-sha1', '-sigopt', 'rsa_padding_mode:pss'], 'invalid_csr'],
  ['RSA-2048 with PKCS#1 v1.5 SHA-1', ['-newkey', 'rsa:2048'], ['-sha1'], 'invalid_csr'],
];
for (const [name, newKey, sign, expected] of rsaCases) {
  test(`${expected === 'accepted' ? 'ok' : 'fail-weak-digest'}: ${name} is ${expected}`, async () => {
    assert.equal((await refusal(opensslCsr(newKey, sign))).code, expected);
  });
}

test('ok: the names of an openssl CSR are read (CN, DNS, IP, URI) with the key digest', async () => {
  const pem = opensslCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], ['-addext', 'subjectAltName=DNS:Orders,IP:127.0.0.2,IP:::1,URI:spiffe://td.test/svc/orders']);
  const parsed = await parseCsr(pem);
  assert.deepEqual([parsed.commonName, parsed.dns, parsed.ips, parsed.uris, parsed.others], ['orders', ['orders'], ['127.0.0.2', '::1'], ['spiffe://td.test/svc/orders'], []]);
  const spki = new x509.Pkcs10CertificateRequest(pem).publicKey.rawData;
  assert.equal(parsed.spkiSha256, createHash('sha256').update(new Uint8Array(spki)).digest('hex'));
});

/**
 * A P-256 CSR for CN=orders whose SubjectPublicKeyInfo is `spki(exported DER)`'s, as given
 * (shapes makeCsr would never produce), signed by the key: returns the PEM and the exported DER.
 */
async function csrWithKeyInfo(spki: (der: Buffer) => SubjectPublicKeyInfo): Promise<{ pem: string; der: Buffer }> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const der = Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  const info = AsnConvert.serialize(new CertificationRequestInfo({
    subject: new Name([new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: 'orders' }) })])]),
    subjectPKInfo: spki(der),
  }));
  const signature = sign('sha256', new Uint8Array(info), { key: createPrivateKey({ key: Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)), format: 'der', type: 'pkcs8' }), dsaEncoding: 'der' });
  const request = new CertificationRequest({ certificationRequestInfo: encoded<CertificationRequestInfo>(info), signatureAlgorithm: new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' }), signature: new Uint8Array(signature).buffer });
  return { pem: x509.PemConverter.encode(AsnConvert.serialize(request), 'CERTIFICATE REQUEST'), der };
}

test('ok: the key digest and DER do not depend on the BER the CSR used (a needlessly long length)', async () => {
  // The same SubjectPublicKeyInfo with its outer length in long form (0x81 0x59 for 0x59): BER, not DER.
  const { pem, der } = await csrWithKeyInfo((der) => encoded<SubjectPublicKeyInfo>(new Uint8Array([der[0]!, 0x81, ...der.subarray(1)]).buffer));
  const parsed = await parseCsr(pem);
  assert.deepEqual(Buffer.from(parsed.spkiDer), der);
  assert.equal(parsed.spkiSha256, createHash('sha256').update(der).digest('hex'));
});

test('fail-compressed-point: an EC key in compressed form is refused, so one key cannot get a second digest', async () => {
  const { pem } = await csrWithKeyInfo((der) => {
    const uncompressed = AsnConvert.parse(der, SubjectPublicKeyInfo);
    const point = new Uint8Array(uncompressed.subjectPublicKey);
    // SEC 1 §2.3.3: 0x02 / 0x03 (the parity of y) and x alone.
    const compressed = new Uint8Array([0x02 + (point[64]! & 1), ...point.subarray(1, 33)]);
    return new SubjectPublicKeyInfo({ algorithm: uncompressed.algorithm, subjectPublicKey: compressed.buffer });
  });
  const { code: refused, description } = await refusal(pem);
  assert.equal(refused, 'invalid_csr');
  assert.match(description, /compressed form/);
});

test('ok: each CSR gets the CN of its own subject (CNs are kept per distinct subject)', async () => {
  const cns = [];
  for (const cn of ['orders', 'payments', 'orders', 'orders.shop.local']) cns.push((await parseCsr((await makeCsr({ cn, dns: [] })).csr)).commonName);
  assert.deepEqual(cns, ['orders', 'payments', 'orders', 'orders.shop.local']);
});

test('ok: CSRs asking for the same names are read alike, each with lists of its own', async () => {
  const options = { cn: 'orders', dns: ['orders', 'orders.shop.svc.cluster.local'], ips: ['127.0.0.2'], uris: ['spiffe://td.test/svc/orders'] };
  const first = await parseCsr((await makeCsr(options)).csr);
  first.dns.push('payments');
  const second = await parseCsr((await makeCsr(options)).csr);
  assert.deepEqual([second.dns, second.ips, second.uris, second.others], [options.dns, options.ips, options.uris, []]);
  assert.notEqual(first.spkiSha256, second.spkiSha256);
});

test('ok: other name types are read and then refused by the name policy', async () => {
  const { csr } = await makeCsr({ cn: 'orders', dns: ['orders'] });
  assert.deepEqual((await parseCsr(csr)).others, []);
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const withEmail = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=orders', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' }, extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'email', value: 'a@b.test' }])] });
  const parsed = await parseCsr(withEmail.toString('pem'));
  assert.deepEqual(parsed.others, ['email:a@b.test']);
  assert.equal(await code(() => authorizeNames(parsed, grant, strict)), 'identity_not_allowed');
});

test('fail-bad-signature: a CSR whose signature does not match is invalid_csr', async () => {
  const { csr } = await makeCsr({ cn: 'orders' });
  const der = Buffer.from(x509.PemConverter.decodeFirst(csr));
  der[der.length - 5] = der[der.length - 5]! ^ 0xff;
  assert.equal(await code(parseCsr(x509.PemConverter.encode(der, 'CERTIFICATE REQUEST'))), 'invalid_csr');
});

test('fail-not-pem: garbage and non-strings are invalid_csr', async () => {
  assert.equal(await code(parseCsr('hello')), 'invalid_csr');
  assert.equal(await code(parseCsr(42)), 'invalid_csr');
  assert.equal(await code(parseCsr('-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----')), 'invalid_csr');
});

const refusals: Array<[string, Parameters<typeof makeCsr>[0]]> = [
  ['another service URI', { uris: ['spiffe://td.test/svc/payments'] }],
  ['another trust domain', { uris: ['spiffe://evil.test/svc/orders'] }],
  ['two URI SANs', { uris: ['spiffe://td.test/svc/orders', 'spiffe://td.test/svc/orders'] }],
  ['a DNS name of another service', { dns: ['payments'] }],
  ['a look-alike DNS name', { dns: ['ordersx.example'] }],
  ['a non-loopback IP', { ips: ['10.0.0.7'] }],
  ['a CN of another service', { cn: 'payments' }],
  ['a name under a foreign domain', { dns: ['orders.evil.com'] }],
  ['an IDN under the service name', { dns: ['orders.xn--80ak6aa92e.com'] }],
  ['localhost', { dns: ['localhost'] }],
  ['127.0.0.1', { ips: ['127.0.0.1'] }],
  ['::1', { ips: ['::1'] }],
  ['a loopback IP in another spelling', { ips: ['0:0:0:0:0:0:0:1'] }],
];
for (const [name, options] of refusals) {
  test(`fail-identity: a CSR asking for ${name} is identity_not_allowed`, async () => {
    const parsed = await parseCsr((await makeCsr(options)).csr);
    assert.equal(await code(() => authorizeNames(parsed, grant, strict)), 'identity_not_allowed');
  });
}

const suffixRefusals: Array<[string, Parameters<typeof makeCsr>[0]]> = [
  ['a name under a suffix not configured', { dns: ['orders.evil.com'] }],
  ['two labels in front of a suffix', { dns: ['x.orders.shop.svc.cluster.local'] }],
  ['another service under a suffix', { dns: ['payments.shop.svc.cluster.local'] }],
  ['the bare suffix', { dns: ['shop.svc.cluster.local'] }],
  ['localhost (loopback names off)', { dns: ['localhost'] }],
  ['a loopback IP (loopback names off)', { ips: ['127.0.0.2'] }],
];
for (const [name, options] of suffixRefusals) {
  test(`fail-identity: with dnsSuffixes, a CSR asking for ${name} is identity_not_allowed`, async () => {
    const parsed = await parseCsr((await makeCsr(options)).csr);
    assert.equal(await code(() => authorizeNames(parsed, grant, withSuffixes)), 'identity_not_allowed');
  });
}

// The names of the CA's own TLS listener stay refused even where loopback names are allowed.
const serverNameRefusals: Array<[string, Parameters<typeof makeCsr>[0]]> = [
  ['localhost', { dns: ['localhost'] }],
  ['127.0.0.1', { ips: ['127.0.0.1'] }],
  ['127.0.0.1 as an IPv4-mapped IPv6 address', { ips: ['::ffff:127.0.0.1'] }],
  ['a DNS server name', { dns: ['ca.internal'] }],
  ['a non-loopback IP', { ips: ['10.0.0.7'] }],
];
for (const [name, options] of serverNameRefusals) {
  test(`fail-server-name: with allowLoopbackNames, a CSR asking for ${name} is identity_not_allowed`, async () => {
    const parsed = await parseCsr((await makeCsr(options)).csr);
    assert.equal(await code(() => authorizeNames(parsed, grant, withLoopback)), 'identity_not_allowed');
  });
}
