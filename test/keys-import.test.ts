/**
 * `gatehouse keys import --verify-only`: another issuer's public key is published in our JWKS so
 * tokens it signed stay valid during a migration; Gatehouse never signs with it. The key is
 * imported by the real CLI into the store of a running service.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID, webcrypto } from 'node:crypto';
import { SignJWT, createRemoteJWKSet, jwtVerify, decodeProtectedHeader, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import { runCli } from './helpers/cli.ts';
import { startOAuthService, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';
import { x509, certificatesToPem, randomSerial } from '../src/x509/index.ts';
import type { Clock } from '../src/shared/clock.ts';

const jwksOf = async (issuer: string) => ((await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string; d?: string }> }).keys;

/** A token as the previous issuer would have signed it. */
function legacyToken(fx: OAuthFixture, key: CryptoKey, header: { alg: string; kid: string }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ client_id: 'legacy-app', roles: ['customer'], scope: 'books:read' })
    .setProtectedHeader({ ...header, typ: 'at+jwt' })
    .setIssuer(fx.issuer).setSubject('legacy-user').setAudience(fx.api).setJti(randomUUID()).setIssuedAt(now).setExpirationTime(now + 300)
    .sign(key);
}

await forEachDialect('keys import --verify-only', (dialect) => {
  let fx: OAuthFixture;
  let offset = 0;
  const clock: Clock = { now: () => Date.now() + offset };
  let dir: string;
  let legacy: { privateKey: CryptoKey; pem: string };
  const gatehouse = (args: string[]) => runCli(args, { dataDir: fx.svc.dataDir, env: { GATEHOUSE_MASTER_KEY: undefined, GATEHOUSE_DATABASE_URL: fx.svc.config.database.url ?? '' } });

  before(async () => {
    fx = await startOAuthService(dialect, { clock });
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-import-'));
    const pair = await generateKeyPair('ES256', { extractable: true });
    legacy = { privateKey: pair.privateKey, pem: await exportSPKI(pair.publicKey) };
    writeFileSync(join(dir, 'legacy.pem'), legacy.pem);
  });
  after(async () => {
    await fx.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('ok: an imported key is published, listed and audited; tokens it signed verify with jose and the service verifier', async () => {
    const result = gatehouse(['keys', 'import', '--file', join(dir, 'legacy.pem'), '--verify-only', '--kid', 'legacy-1', '--expires', '30d']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /imported verify-only key legacy-1 \(ES256\), published in JWKS until \d{4}-/);

    const published = (await jwksOf(fx.issuer)).find((k) => k.kid === 'legacy-1');
    assert.ok(published, 'in JWKS');
    assert.equal(published.d, undefined);
    const token = await legacyToken(fx, legacy.privateKey, { alg: 'ES256', kid: 'legacy-1' });
    const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`)), { issuer: fx.issuer, audience: fx.api, typ: 'at+jwt' });
    assert.equal(payload.sub, 'legacy-user');
    assert.equal((await fx.svc.service.context.verifier.verify(token, { audience: fx.api })).sub, 'legacy-user');

    const listed = (JSON.parse(gatehouse(['keys', 'list', '--json']).stdout) as Array<{ kid: string; state: string; retireUntil: number }>).find((k) => k.kid === 'legacy-1');
    assert.equal(listed?.state, 'verify-only');
    assert.ok(listed!.retireUntil > Date.now() / 1000 + 29 * 86400);
    const audit = await fx.svc.service.context.audit.list({ event: 'key.imported', latest: true, limit: 1 });
    assert.equal(audit[0]?.subject, 'legacy-1');
    assert.equal(audit[0]?.actor, 'cli');
  });

  test('ok: the provider never signs with a verify-only key, even after rotations', async () => {
    const ctx = fx.svc.service.context;
    const { kid } = await ctx.keys.verifyOnly.import({ pem: legacy.pem, kid: 'legacy-never-signs' }, 'test');
    for (let i = 0; i < 2; i++) {
      await ctx.keys.rotate('test', { force: true });
      await ctx.oauth.checkKeys();
      const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope: 'books:read' }, basic('orders-svc', fx.service.secret));
      const issued = ((await res.json()) as { access_token: string }).access_token;
      assert.notEqual(decodeProtectedHeader(issued).kid, kid);
      assert.ok(!(await ctx.keys.providerJwks()).keys.some((k) => k.kid === kid), 'never handed to oidc-provider');
      assert.ok(!(await ctx.keys.list()).some((k) => k.kid === kid), 'not a signing key');
    }
    await ctx.keys.verifyOnly.remove(kid, 'test');
  });

  test('ok: an RSA certificate is imported as RS256 and its tokens verify', async () => {
    const keys = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: randomSerial(), name: 'CN=Legacy IdP', keys, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000) });
    const key = await fx.svc.service.context.keys.verifyOnly.import({ pem: certificatesToPem([cert]) }, 'test');
    assert.equal(key.alg, 'RS256');
    const token = await legacyToken(fx, keys.privateKey as CryptoKey, { alg: 'RS256', kid: key.kid });
    await jwtVerify(token, createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`)), { issuer: fx.issuer, audience: fx.api });
  });

  test('ok: a key leaves JWKS when its expiry passes', async () => {
    const ctx = fx.svc.service.context;
    const pair = await generateKeyPair('EdDSA', { extractable: true });
    const now = Math.floor(clock.now() / 1000);
    const key = await ctx.keys.verifyOnly.import({ pem: await exportSPKI(pair.publicKey), kid: 'legacy-short', expiresAt: now + 60 }, 'test');
    assert.equal(key.alg, 'EdDSA');
    assert.ok((await jwksOf(fx.issuer)).some((k) => k.kid === 'legacy-short'));
    offset += 61_000;
    assert.ok(!(await jwksOf(fx.issuer)).some((k) => k.kid === 'legacy-short'));
  });

  test('ok: keys remove takes a verify-only key out of JWKS and is audited', async () => {
    const result = gatehouse(['keys', 'remove', '--kid', 'legacy-1']);
    assert.equal(result.code, 0, result.stderr);
    assert.ok(!(await jwksOf(fx.issuer)).some((k) => k.kid === 'legacy-1'));
    const token = await legacyToken(fx, legacy.privateKey, { alg: 'ES256', kid: 'legacy-1' });
    await assert.rejects(jwtVerify(token, createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`))), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
    assert.equal((await fx.svc.service.context.audit.list({ event: 'key.removed', latest: true, limit: 1 }))[0]?.subject, 'legacy-1');
  });
});

describe('keys import: refused input', () => {
  let dataDir: string;
  const gatehouse = (args: string[]) => runCli(args, { dataDir, env: { GATEHOUSE_MASTER_KEY: '' } });
  const file = (name: string, text: string) => {
    const path = join(dataDir, name);
    writeFileSync(path, text);
    return path;
  };
  before(() => { dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-import-refused-')); });
  after(() => { rmSync(dataDir, { recursive: true, force: true }); });

  test('fail-not-verify-only: without --verify-only nothing is imported (exit 2)', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const result = gatehouse(['keys', 'import', '--file', file('k.pem', await exportSPKI(pair.publicKey))]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^gatehouse: keys import needs --verify-only/);
  });

  test('fail-bad-key: a private key, a P-384 key and a mismatched --alg are refused with one line (exit 1)', async () => {
    const { exportPKCS8 } = await import('jose');
    const es256 = await generateKeyPair('ES256', { extractable: true });
    const es384 = await generateKeyPair('ES384', { extractable: true });
    const cases: Array<[string[], RegExp]> = [
      [['--file', file('private.pem', await exportPKCS8(es256.privateKey))], /received a private key/],
      [['--file', file('p384.pem', await exportSPKI(es384.publicKey))], /EC P-256, RSA .* or Ed25519 key, received EC secp384r1/],
      [['--file', file('es.pem', await exportSPKI(es256.publicKey)), '--alg', 'RS256'], /--alg RS256 does not fit this key: it verifies ES256/],
    ];
    for (const [args, message] of cases) {
      const result = gatehouse(['keys', 'import', '--verify-only', ...args]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1);
    }
    assert.doesNotMatch(gatehouse(['keys', 'list']).stdout, /verify-only/);
  });

  test('fail-signing-key: keys remove refuses a signing key', () => {
    const [active] = JSON.parse(gatehouse(['keys', 'list', '--json']).stdout) as Array<{ kid: string }>;
    const result = gatehouse(['keys', 'remove', '--kid', active!.kid]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /is a signing key \(active\): signing keys leave JWKS through rotation/);
  });
});
