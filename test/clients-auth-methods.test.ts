/**
 * Token-endpoint authentication chosen per client: client_secret_basic, client_secret_post,
 * private_key_jwt (inline JWKS or a JWKS URI; openid-client's PrivateKeyJwt as the client) and
 * none. A client using any other method than its own is refused invalid_client; an assertion is
 * accepted once, and only when signed with the client's key.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, tokenRequest, basic, type OAuthFixture } from './oauth/helpers.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const CC = { grant_type: 'client_credentials', scope: 'books:read' };

interface KeyPair { privateKey: CryptoKey; jwk: JWK }

async function keyPair(kid: string): Promise<KeyPair> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

await forEachDialect('client authentication methods', (dialect) => {
  let fx: OAuthFixture;
  let key: KeyPair;
  let other: KeyPair;
  let jwksServer: Server;
  let jwksUri: string;
  let jwksRequests = 0;

  const create = (clientId: string, extra: Record<string, unknown>) =>
    fx.svc.service.context.oauth.clients.create({ clientId, name: clientId, firstParty: true, redirectUris: [], grantTypes: ['client_credentials'], scope: 'books:read', ...extra }, 'test');

  const assertion = (clientId: string, signer: KeyPair, claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ jti: randomUUID(), iss: clientId, sub: clientId, aud: fx.issuer, iat: now, exp: now + 60, ...claims })
      .setProtectedHeader({ alg: 'ES256', kid: signer.jwk.kid! })
      .sign(signer.privateKey);
  };
  const withAssertion = (clientId: string, jwt: string) => tokenRequest(fx.issuer, { ...CC, client_id: clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: jwt });
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  before(async () => {
    fx = await startOAuthService(dialect);
    key = await keyPair('k1');
    other = await keyPair('k1');
    jwksServer = createServer((_req, res) => {
      jwksRequests++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [key.jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    jwksUri = `https://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
    await create('basic-svc', {});
    await create('post-svc', { tokenEndpointAuthMethod: 'client_secret_post' });
    await create('jwt-inline', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    await create('jwt-uri', { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri });
  });
  after(async () => {
    await fx.close();
    jwksServer.close();
  });

  test('ok: client_secret_basic with the Basic header; fail-method: the same secret in the form → invalid_client', async () => {
    const { secret } = await fx.svc.service.context.oauth.clients.rotateSecret('basic-svc', 'test', { overlap: 0 });
    assert.equal((await tokenRequest(fx.issuer, CC, basic('basic-svc', secret))).status, 200);
    const refused = await tokenRequest(fx.issuer, { ...CC, client_id: 'basic-svc', client_secret: secret });
    assert.equal(refused.status, 401);
    assert.equal(await errorOf(refused), 'invalid_client');
  });

  test('ok: client_secret_post with the form (openid-client ClientSecretPost); fail-method: Basic → invalid_client', async () => {
    const { secret } = await fx.svc.service.context.oauth.clients.rotateSecret('post-svc', 'test', { overlap: 0 });
    const config = await oidc.discovery(new URL(fx.issuer), 'post-svc', undefined, oidc.ClientSecretPost(secret), { execute: [oidc.allowInsecureRequests] });
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'books:read' });
    assert.ok(tokens.access_token);
    const refused = await tokenRequest(fx.issuer, CC, basic('post-svc', secret));
    assert.equal(refused.status, 401);
    assert.equal(await errorOf(refused), 'invalid_client');
  });

  test('ok: private_key_jwt with openid-client PrivateKeyJwt and a jose key (inline JWKS)', async () => {
    const config = await oidc.discovery(new URL(fx.issuer), 'jwt-inline', undefined, oidc.PrivateKeyJwt({ key: key.privateKey, kid: 'k1' }), { execute: [oidc.allowInsecureRequests] });
    const first = await oidc.clientCredentialsGrant(config, { scope: 'books:read' });
    const second = await oidc.clientCredentialsGrant(config, { scope: 'books:read' });
    assert.ok(first.access_token && second.access_token);
  });

  test('fail-ssrf: a JWKS URI on a loopback address is never fetched (oidc-provider\'s SSRF guard) → invalid_client', async () => {
    const res = await withAssertion('jwt-uri', await assertion('jwt-uri', key));
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'invalid_client');
    assert.equal(jwksRequests, 0);
  });

  test('fail-replay: the same assertion twice → the second is invalid_client', async () => {
    const jwt = await assertion('jwt-inline', key);
    assert.equal((await withAssertion('jwt-inline', jwt)).status, 200);
    const replayed = await withAssertion('jwt-inline', jwt);
    assert.equal(replayed.status, 401);
    assert.equal(await errorOf(replayed), 'invalid_client');
  });

  test('fail-replay-parallel: the same assertion sent five times at once is accepted once', async () => {
    const jwt = await assertion('jwt-inline', key);
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => withAssertion('jwt-inline', jwt)))).map((res) => res.status);
    assert.deepEqual(statuses.filter((s) => s === 200).length, 1, statuses.join(' '));
    assert.ok(statuses.every((s) => s === 200 || s === 401));
  });

  test('fail-wrong-key: an assertion signed with another key (same kid) → invalid_client', async () => {
    const res = await withAssertion('jwt-inline', await assertion('jwt-inline', other));
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'invalid_client');
  });

  test('fail-audience: an assertion for another audience → invalid_client', async () => {
    const res = await withAssertion('jwt-inline', await assertion('jwt-inline', key, { aud: 'https://elsewhere.example' }));
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'invalid_client');
  });

  test('fail-method: a private_key_jwt client presenting a secret, a secret client presenting an assertion → invalid_client', async () => {
    const withSecret = await tokenRequest(fx.issuer, CC, basic('jwt-inline', 'whatever-secret'));
    assert.equal(withSecret.status, 401);
    assert.equal(await errorOf(withSecret), 'invalid_client');
    const withJwt = await withAssertion('basic-svc', await assertion('basic-svc', key));
    assert.equal(withJwt.status, 401);
    assert.equal(await errorOf(withJwt), 'invalid_client');
  });

  test('fail-method: a public client (none) cannot use client_credentials; sending no credentials for a secret client → invalid_client', async () => {
    const res = await tokenRequest(fx.issuer, { ...CC, client_id: 'basic-svc' });
    assert.equal(res.status, 401);
    assert.equal(await errorOf(res), 'invalid_client');
  });

  for (const [reason, extra] of [
    ['no-keys', { tokenEndpointAuthMethod: 'private_key_jwt' }],
    ['both-keys', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] }, jwksUri: 'https://keys.example/jwks' }],
    ['private-key', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }] } }],
    ['broken-key', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'AAAA', y: 'BBBB' }] } }],
    ['plain-http-uri', { tokenEndpointAuthMethod: 'private_key_jwt', jwksUri: 'http://keys.example/jwks' }],
    ['keys-without-jwt', { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }] } }],
    ['public-with-secret-method', { public: true, tokenEndpointAuthMethod: 'client_secret_post' }],
  ] as const) {
    test(`fail-${reason}: client add refuses it (validation_failed), nothing stored`, async () => {
      await assert.rejects(create(`bad-${reason}`, extra), (error: { code?: string }) => error.code === 'validation_failed');
      await assert.rejects(fx.svc.service.context.oauth.clients.find(`bad-${reason}`), (error: { code?: string }) => error.code === 'not_found');
    });
  }

  test('ok: private_key_jwt and secret clients show their method; only secret clients get a secret', async () => {
    const created = await create('jwt-shown', { tokenEndpointAuthMethod: 'private_key_jwt', jwks: { keys: [key.jwk] } });
    assert.equal(created.secret, undefined);
    assert.equal(created.client.tokenEndpointAuthMethod, 'private_key_jwt');
    assert.equal(created.client.public, false);
    await assert.rejects(fx.svc.service.context.oauth.clients.rotateSecret('jwt-shown', 'test'), (error: { code?: string }) => error.code === 'conflict');
  });
});
