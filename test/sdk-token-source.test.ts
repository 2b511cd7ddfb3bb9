/**
 * clientCredentials(): a service's own token from the real token endpoint of a real Security
 * Service. Grants are counted where they happen: the service's
 * `gatehouse_tokens_issued_total{grant_type="client_credentials"}` counter at /metrics.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clientCredentials, createVerifier, type Verifier } from '../src/sdk/index.ts';
import { startOAuthService, type OAuthFixture } from './oauth/helpers.ts';

let fx: OAuthFixture;
let verifier: Verifier;

async function grants(): Promise<number> {
  const text = await (await fetch(`${fx.issuer}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('gatehouse_tokens_issued_total{grant_type="client_credentials"}'));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

const source = (options: Partial<Parameters<typeof clientCredentials>[0]> = {}) => {
  const tokens = clientCredentials({ issuer: fx.issuer, clientId: 'orders-svc', clientSecret: fx.service.secret, scope: 'books:read', ...options });
  after(() => tokens.close());
  return tokens;
};

before(async () => {
  fx = await startOAuthService('sqlite');
  verifier = createVerifier({ issuer: fx.issuer, audience: fx.api });
});
after(async () => {
  await verifier.close();
  await fx.close();
});

test('ok: token() is a client_credentials access token the API accepts', async () => {
  const identity = await verifier.verify(await source().token());
  assert.equal(identity.kind, 'service');
  assert.equal(identity.subject, 'orders-svc');
  assert.ok(identity.hasScope('books:read'));
});

test('ok: resource picks the audience (the issuer, for the event stream)', async () => {
  const token = await source({ scope: 'events:read', resource: fx.issuer }).token();
  assert.equal(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).aud, fx.issuer);
});

test('ok: single flight: 10 concurrent token() calls cost one grant and get the same token', async () => {
  const tokens = source();
  const before = await grants();
  const results = await Promise.all(Array.from({ length: 10 }, () => tokens.token()));
  assert.equal(new Set(results).size, 1);
  assert.equal(await grants() - before, 1);
});

test('ok: cached: later calls within the lifetime cost no grant', async () => {
  const tokens = source();
  const first = await tokens.token();
  const before = await grants();
  for (let i = 0; i < 5; i++) assert.equal(await tokens.token(), first);
  assert.equal(await grants() - before, 0);
});

test('ok: renewed refreshBefore seconds before expiry (one grant for concurrent callers then too)', async () => {
  let clock = Date.now();
  const tokens = source({ refreshBefore: 30, now: () => clock });
  const first = await tokens.token();
  const ttl = fx.svc.config.tokens.accessTokenTtl;
  clock += (ttl - 31) * 1000;
  assert.equal(await tokens.token(), first, 'still more than refreshBefore left');
  clock += 2000;
  const before = await grants();
  const renewed = await Promise.all(Array.from({ length: 10 }, () => tokens.token()));
  assert.equal(new Set(renewed).size, 1);
  assert.notEqual(renewed[0], first);
  assert.equal(await grants() - before, 1);
});

test('fail-bad-secret: token() rejects without the secret in the error; the failure is not cached', async () => {
  const tokens = source({ clientSecret: 'not-the-secret-0123456789' });
  await assert.rejects(tokens.token(), (error: Error) => {
    assert.doesNotMatch(`${error.message} ${String(error.stack)}`, /not-the-secret/);
    return true;
  });
  await assert.rejects(tokens.token(), 'a second call asks again (and fails again)');
});

test('ok: securityService: discovery and the token endpoint are reached at the internal URL', async () => {
  const fetched: string[] = [];
  const internal = fx.issuer.replace('127.0.0.1', 'localhost');
  const recording: typeof fetch = (input, init) => {
    fetched.push(String(input instanceof Request ? input.url : input));
    return fetch(input, init);
  };
  await source({ securityService: internal, fetch: recording }).token();
  assert.ok(fetched.length >= 2);
  assert.ok(fetched.every((url) => url.startsWith(internal)), fetched.join('\n'));
});

test('fail-closed: token() after close() rejects', async () => {
  const tokens = source();
  tokens.close();
  await assert.rejects(tokens.token(), /closed/);
});
