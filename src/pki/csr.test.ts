import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { x509 } from '../shared/x509.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { parseCsr, authorizeNames } from './csr.ts';
import { makeCsr } from '../../test/helpers/pki.ts';

const grant = { trustDomain: 'td.test', service: 'orders' };

async function code(promise: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
    return undefined;
  } catch (error) {
    return isGatehouseError(error) ? error.code : `uncoded: ${(error as Error).message}`;
  }
}

test('ok: a P-256 CSR with allowed names is parsed and granted', async () => {
  const { csr } = await makeCsr({ cn: 'orders', dns: ['orders', 'orders.shop.svc.cluster.local', 'localhost'], ips: ['127.0.0.1'], uris: ['spiffe://td.test/svc/orders'] });
  const parsed = await parseCsr(csr);
  assert.deepEqual(authorizeNames(parsed, grant), { dns: ['orders', 'orders.shop.svc.cluster.local', 'localhost'], ips: ['127.0.0.1'] });
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

test('fail-unsupported-curve: a secp256k1 CSR (parses, verify() would throw) is invalid_csr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-csr-'));
  try {
    execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1', '-nodes', '-keyout', join(dir, 'k.pem'), '-subj', '/CN=orders', '-out', join(dir, 'r.csr')], { stdio: 'ignore' });
    assert.equal(await code(parseCsr(readFileSync(join(dir, 'r.csr'), 'utf8'))), 'invalid_csr');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
];
for (const [name, options] of refusals) {
  test(`fail-identity: a CSR asking for ${name} is identity_not_allowed`, async () => {
    const parsed = await parseCsr((await makeCsr(options)).csr);
    assert.equal(await code(() => authorizeNames(parsed, grant)), 'identity_not_allowed');
  });
}
