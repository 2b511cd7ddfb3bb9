/**
 * createVerifier against a real Security Service: its real tokens, its /policy, and revocation
 * pushed over its real event stream (the verifier's own service credential, from clientCredentials).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createVerifier, clientCredentials, VerificationError, type Verifier, type TokenSource } from '../src/sdk/index.ts';
import { startOAuthService, rp, codeFlow, type OAuthFixture } from './oauth/helpers.ts';

let fx: OAuthFixture;
let shop: oidc.Configuration;
let credentials: TokenSource;
let verifier: Verifier;
/** Every URL the verifier fetched. */
const fetched: Array<{ url: string; lastEventId: string | null }> = [];
/** While true, the event stream is cut: open streams are aborted and new ones fail. */
let streamDown = false;
const openStreams = new Set<AbortController>();

const streamCutter: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  fetched.push({ url, lastEventId: new Headers(init?.headers).get('last-event-id') });
  if (!url.endsWith('/events/stream')) return fetch(input, init);
  if (streamDown) throw new TypeError('fetch failed (stream cut by the test)');
  const controller = new AbortController();
  openStreams.add(controller);
  init?.signal?.addEventListener('abort', () => controller.abort());
  return fetch(input, { ...init, signal: controller.signal });
};

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<number> {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

const refused = (token: string) => verifier.verify(token).then(() => false, (error: unknown) => error instanceof VerificationError);

async function userToken(username: 'alice' | 'bob'): Promise<string> {
  return (await codeFlow(shop, fx.issuer, { username })).tokens.access_token;
}

before(async () => {
  fx = await startOAuthService('sqlite');
  shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
  credentials = clientCredentials({ issuer: fx.issuer, clientId: 'orders-svc', clientSecret: fx.service.secret, scope: 'events:read', resource: fx.issuer });
  verifier = createVerifier({ issuer: fx.issuer, audience: fx.api, credentials, fetch: streamCutter, eventsBackoff: { min: 20, max: 100 } });
  await until(() => verifier.ready(), 'the verifier to be ready');
});
after(async () => {
  await verifier.close();
  credentials.close();
  await fx.close();
});

test('ok: a real client_credentials token → a service identity with the policy\'s permissions', async () => {
  const service = await oidc.discovery(new URL(fx.issuer), 'orders-svc', undefined, oidc.ClientSecretBasic(fx.service.secret), { execute: [oidc.allowInsecureRequests] });
  const { access_token } = await oidc.clientCredentialsGrant(service, { scope: 'books:read' });
  const identity = await verifier.verify(access_token);
  assert.equal(identity.kind, 'service');
  assert.equal(identity.subject, 'orders-svc');
  assert.deepEqual(identity.roles, ['staff']);
  assert.deepEqual(identity.permissions, fx.svc.config.roles.staff!.slice().sort());
  assert.ok(identity.can('orders:read') && !identity.can('orders:refund'));
  assert.equal(verifier.policyVersion, fx.svc.service.context.policy.version);
});

test('ok: a real user token from the code flow → a user identity (sid, roles, scopes)', async () => {
  const identity = await verifier.verify(await userToken('alice'));
  assert.equal(identity.kind, 'user');
  assert.equal(identity.subject, fx.users.alice);
  assert.equal(identity.clientId, 'shop');
  assert.equal(typeof identity.sessionId, 'string');
  assert.deepEqual(identity.roles, ['customer']);
  assert.ok(identity.hasScope('books:read'));
  assert.ok(identity.can('orders:read', { ownerId: fx.users.alice }));
  assert.ok(!identity.can('orders:read', { ownerId: fx.users.bob }));
});

test('fail-wrong-audience: a real token for the issuer itself (the admin audience) is not for this API', async () => {
  const service = await oidc.discovery(new URL(fx.issuer), 'orders-svc', undefined, oidc.ClientSecretBasic(fx.service.secret), { execute: [oidc.allowInsecureRequests] });
  const { access_token } = await oidc.clientCredentialsGrant(service, { scope: 'events:read', resource: fx.issuer });
  assert.ok(await refused(access_token));
});

test('fail-revoked: a disabled user\'s unexpired token is refused within 1 s (pushed, not polled)', async () => {
  const token = await userToken('bob');
  await verifier.verify(token); // verified and cached
  await fx.svc.service.context.users.disable('bob', 'test');
  const elapsed = await until(() => refused(token), 'the revocation to arrive', 5000);
  assert.ok(elapsed < 1000, `refused after ${Math.round(elapsed)} ms`);
  await fx.svc.service.context.users.enable('bob', 'test');
});

test('ok: a lost stream shows in status(), reconnects with Last-Event-ID, and no revocation is missed', async () => {
  const token = await userToken('alice');
  await verifier.verify(token);
  streamDown = true;
  for (const controller of openStreams) controller.abort();
  await until(() => !verifier.status().events, 'status().events to go false');
  assert.equal(verifier.ready(), false);
  // Revoked while the verifier cannot hear it.
  await fx.svc.service.context.users.disable('alice', 'test');
  assert.equal(await refused(token), false, 'not known yet: the stream is down');
  const before = fetched.length;
  streamDown = false;
  await until(() => verifier.status().events, 'the stream to come back');
  await until(() => refused(token), 'the missed revocation to arrive');
  const reconnect = fetched.slice(before).find((f) => f.url.endsWith('/events/stream'));
  assert.match(reconnect?.lastEventId ?? '', /^\d+$/, 'resumed after the last event it saw');
  await fx.svc.service.context.users.enable('alice', 'test');
});

test('ok: policy.changed on the stream makes the verifier refetch /policy', async () => {
  const policyFetches = () => fetched.filter((f) => f.url.endsWith('/policy')).length;
  const before = policyFetches();
  await fx.svc.service.context.events.publish({ type: 'policy.changed', version: 'another-version' });
  await until(() => policyFetches() > before, 'a /policy refetch');
});

test('ok: keys.rotated on the stream makes the verifier refetch the JWKS; tokens of the new key verify', async () => {
  const jwksFetches = () => fetched.filter((f) => f.url.endsWith('/jwks.json')).length;
  const before = jwksFetches();
  // Forced: the next key is as young as the service (tokens.keyActivationDelay); the keys.rotated event makes the verifier refetch anyway.
  const { activeKid } = await fx.svc.service.context.keys.rotate('test', { force: true });
  await fx.svc.service.context.events.publish({ type: 'keys.rotated', activeKid });
  await until(() => jwksFetches() > before, 'a JWKS refetch');
  const service = await oidc.discovery(new URL(fx.issuer), 'orders-svc', undefined, oidc.ClientSecretBasic(fx.service.secret), { execute: [oidc.allowInsecureRequests] });
  let identity;
  // The provider picks up the rotation within its key check interval.
  await until(async () => {
    const { access_token } = await oidc.clientCredentialsGrant(service, { scope: 'books:read' });
    if (JSON.parse(Buffer.from(access_token.split('.')[0]!, 'base64url').toString()).kid !== activeKid) return false;
    identity = await verifier.verify(access_token);
    return true;
  }, 'a token signed by the new key');
  assert.equal((identity as unknown as { kind: string }).kind, 'service');
});

test('ok: a verifier started after a revocation learns it from the retained history', async () => {
  const token = await userToken('alice');
  await fx.svc.service.context.users.disable('alice', 'test');
  const late = createVerifier({ issuer: fx.issuer, audience: fx.api, credentials });
  try {
    await until(() => late.ready(), 'the late verifier to be ready');
    await until(() => late.verify(token).then(() => false, () => true), 'the replayed revocation');
  } finally {
    await late.close();
    await fx.svc.service.context.users.enable('alice', 'test');
  }
});

test('ok: without credentials there is no stream: status().events is false and a warning is logged', async () => {
  const warnings: string[] = [];
  const v = createVerifier({ issuer: fx.issuer, audience: fx.api, logger: { info() {}, error() {}, warn: (_o, msg) => warnings.push(msg) } });
  try {
    await until(() => v.status().jwks && v.status().policy, 'keys and policy');
    assert.equal(v.status().events, false);
    assert.equal(v.ready(), false);
    assert.ok(warnings.some((w) => /no credentials/.test(w)));
  } finally {
    await v.close();
  }
});
