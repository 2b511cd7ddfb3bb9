/**
 * The RFC 8693 exchange of a personal API token at /oauth2/token (shared contract 2), driven with
 * fetch and client_secret_basic like the gateway: the answer, the JWT (signed like every other
 * token, scope-bound), last use, every refusal (invalid_grant + an `api_token.refused` audit row,
 * nothing issued), and revocation reaching the event stream.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import { startShopFixture, startOAuthService, auditProbe, revokedSince, type OAuthFixture } from './oauth/helpers.ts';
import { registerExchangeClient, exchange, claimsOf, makeToken, type ExchangeClient } from './helpers/api-tokens.ts';
import type { PublishedEvent } from '../src/events/types.ts';
import { generateApiToken } from '../src/tokens/api-tokens/format.ts';

await forEachDialect('API token exchange', (dialect) => {
  let fx: OAuthFixture;
  let published: PublishedEvent[];
  let gateway: ExchangeClient;
  before(async () => {
    ({ fx, published } = await startShopFixture(dialect));
    gateway = await registerExchangeClient(fx);
  });
  after(async () => { await fx.close(); });

  const ctx = () => fx.svc.service.context;
  const audit = () => auditProbe(fx);
  const issuedCount = async () => Number((await ctx().store.db.selectFrom('issued_tokens').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);

  /** A refused exchange: invalid_grant, nothing issued, an audit row with `reason`. */
  async function assertRefused(token: string, reason: string): Promise<void> {
    const probe = audit();
    const head = await probe.head();
    const issued = await issuedCount();
    const res = await exchange(fx, gateway, token);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
    assert.equal(await issuedCount(), issued, 'nothing issued');
    const row = await probe.last('api_token.refused', head);
    assert.equal(row.reason, reason);
    assert.equal(row.clientId, 'gateway');
  }

  test('ok: exchange answers RFC 8693 §2.2.1 with a scope-bound JWT signed like every other token', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice, { scopes: ['orders:read', 'books:read'] });
    const res = await exchange(fx, gateway, token);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.issued_token_type, 'urn:ietf:params:oauth:token-type:access_token');
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.scope, 'orders:read books:read');
    assert.ok(Number(body.expires_in) > 0 && Number(body.expires_in) <= 300);
    const jwks = createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(String(body.access_token), jwks, { issuer: fx.issuer, audience: fx.api, typ: 'at+jwt' });
    assert.equal(payload.sub, fx.users.alice);
    assert.equal(payload.client_id, 'gateway');
    assert.equal(payload.scope, 'orders:read books:read');
    assert.equal(payload.scope_bound, true);
    assert.equal(payload.api_token_id, summary.id);
    assert.deepEqual(payload.roles, ['customer']);
    assert.equal(payload.preferred_username, 'alice');
    assert.ok(typeof payload.jti === 'string' && protectedHeader.kid);
    assert.equal(Number(payload.exp) - Number(payload.iat), Number(body.expires_in));
    const row = await ctx().store.db.selectFrom('issued_tokens').selectAll().where('jti', '=', String(payload.jti)).executeTakeFirst();
    assert.equal(row?.api_token_id, summary.id);
    assert.equal(row?.subject, fx.users.alice);
  });

  test('ok: the exchange records last use (time and client address) and audits api_token.exchanged', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const probe = audit();
    const head = await probe.head();
    const before = Math.floor(Date.now() / 1000);
    const res = await exchange(fx, gateway, token);
    assert.equal(res.status, 200);
    const listed = (await ctx().apiTokens.list(fx.users.alice)).find((t) => t.id === summary.id);
    assert.ok(listed?.lastUsedAt !== undefined && listed.lastUsedAt >= before);
    assert.equal(listed?.lastUsedAddress, '127.0.0.1');
    const row = await probe.last('api_token.exchanged', head);
    assert.equal(row.data?.apiTokenId, summary.id);
    assert.equal(row.data?.jti, claimsOf(((await res.json()) as { access_token: string }).access_token).jti);
  });

  test('ok: X-Forwarded-For from an untrusted peer is ignored for the last-used address', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    assert.equal((await exchange(fx, gateway, token, {}, { 'x-forwarded-for': '203.0.113.9' })).status, 200);
    const listed = (await ctx().apiTokens.list(fx.users.alice)).find((t) => t.id === summary.id);
    assert.equal(listed?.lastUsedAddress, '127.0.0.1');
  });

  test('ok: the exchanged token never outlives the API token', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const expiresAt = Math.floor(Date.now() / 1000) + 30;
    await ctx().store.db.updateTable('api_tokens').set({ expires_at: expiresAt }).where('id', '=', summary.id).execute();
    const res = await exchange(fx, gateway, token);
    assert.equal(res.status, 200);
    const { access_token } = (await res.json()) as { access_token: string };
    assert.ok(Number(claimsOf(access_token).exp) <= expiresAt);
  });

  test('ok: resource selects another audience; an unknown one is invalid_target', async () => {
    const { token } = await makeToken(fx, fx.users.alice);
    const res = await exchange(fx, gateway, token, { resource: fx.issuer });
    assert.equal(res.status, 200);
    assert.equal(claimsOf(((await res.json()) as { access_token: string }).access_token).aud, fx.issuer);
    const unknown = await exchange(fx, gateway, token, { resource: 'https://elsewhere.example/api' });
    assert.equal(unknown.status, 400);
    assert.equal(((await unknown.json()) as { error: string }).error, 'invalid_target');
  });

  test('fail-forged: a well-formed token with a valid checksum that was never issued', async () => {
    await assertRefused(generateApiToken(), 'unknown');
  });

  test('fail-truncated: a token cut short is refused without a lookup', async () => {
    const { token } = await makeToken(fx, fx.users.alice);
    await assertRefused(token.slice(0, -1), 'malformed');
  });

  test('fail-checksum-broken: one character changed', async () => {
    const { token } = await makeToken(fx, fx.users.alice);
    const at = 10;
    const typo = token.slice(0, at) + (token[at] === 'a' ? 'b' : 'a') + token.slice(at + 1);
    await assertRefused(typo, 'checksum_mismatch');
  });

  test('fail-expired: a token past its expiry', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    await ctx().store.db.updateTable('api_tokens').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('id', '=', summary.id).execute();
    await assertRefused(token, 'expired');
  });

  test('fail-revoked: a revoked token', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    assert.equal(await ctx().apiTokens.revoke(fx.users.alice, summary.id, `user:${fx.users.alice}`), true);
    await assertRefused(token, 'revoked');
  });

  test('fail-owner-disabled: every token of a disabled owner is refused', async () => {
    const carol = await ctx().users.create({ username: 'carol', email: 'carol@example.com', roles: ['customer'] }, 'test');
    const { token } = await makeToken(fx, carol.id);
    await ctx().users.disable(carol.id, 'test');
    await assertRefused(token, 'owner_disabled');
  });

  test('fail-unauthorized-client: a client without tokens:exchange gets unauthorized_client', async () => {
    const other = await registerExchangeClient(fx, 'plain-svc', 'events:read');
    const { token } = await makeToken(fx, fx.users.alice);
    const res = await exchange(fx, other, token);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized_client');
  });

  test('fail-client-registration: tokens:exchange is for confidential service clients only', async () => {
    const clients = ctx().oauth.clients;
    const base = { name: 'x', firstParty: true, scope: 'openid tokens:exchange' };
    await assert.rejects(clients.create({ ...base, clientId: 'web-x', redirectUris: ['https://web.example/cb'], grantTypes: ['authorization_code'] }, 'test'), { code: 'validation_failed' });
    await assert.rejects(clients.create({ ...base, clientId: 'cli-x', public: true, redirectUris: [], grantTypes: ['client_credentials'] }, 'test'), { code: 'validation_failed' });
  });

  test('fail-subject-token-type: another token type is invalid_request', async () => {
    const { token } = await makeToken(fx, fx.users.alice);
    const res = await exchange(fx, gateway, token, { subject_token_type: 'urn:ietf:params:oauth:token-type:access_token' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_request');
  });

  test('fail-client-auth: a wrong client secret is invalid_client', async () => {
    const { token } = await makeToken(fx, fx.users.alice);
    const res = await exchange(fx, { clientId: 'gateway', secret: 'wrong' }, token);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  test('ok: revoking the API token publishes tokens.revoked naming its exchanged JWTs (api_token_revoked)', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const jtis = [];
    for (let i = 0; i < 2; i++) jtis.push(claimsOf(((await (await exchange(fx, gateway, token)).json()) as { access_token: string }).access_token).jti);
    const from = published.length;
    assert.equal(await ctx().apiTokens.revoke(fx.users.alice, summary.id, `user:${fx.users.alice}`), true);
    const events = revokedSince(published, from);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.subject, fx.users.alice);
    assert.equal(events[0]!.reason, 'api_token_revoked');
    assert.equal(events[0]!.issuedBefore, 0, 'only these tokens: the owner\'s others stay valid');
    assert.deepEqual([...events[0]!.tokenIds].sort(), [...jtis].sort());
  });

  test('ok: removing a role names exchanged JWTs, and an exchange in the same second is not denied by issued_before', async () => {
    const dave = await ctx().users.create({ username: 'dave', email: 'dave@example.com', roles: ['customer', 'staff'] }, 'test');
    const { token } = await makeToken(fx, dave.id, { scopes: ['books:read'] });
    const first = claimsOf(((await (await exchange(fx, gateway, token)).json()) as { access_token: string }).access_token);
    const from = published.length;
    await ctx().users.revokeRole(dave.id, 'staff', 'test');
    const event = revokedSince(published, from)[0]!;
    assert.ok(event.tokenIds.includes(String(first.jti)), 'the subject-wide revocation names the exchanged token');
    assert.ok(event.issuedBefore > 0);
    const res = await exchange(fx, gateway, token);
    assert.equal(res.status, 200);
    const next = claimsOf(((await res.json()) as { access_token: string }).access_token);
    assert.ok(Number(next.iat) > event.issuedBefore, `iat ${String(next.iat)} must be after issued_before ${event.issuedBefore}`);
    assert.deepEqual(next.roles, ['customer']);
  });

  test('ok: disabling the owner names exchanged JWTs in tokens.revoked', async () => {
    const erin = await ctx().users.create({ username: 'erin', email: 'erin@example.com', roles: ['customer'] }, 'test');
    const { token } = await makeToken(fx, erin.id);
    const jti = claimsOf(((await (await exchange(fx, gateway, token)).json()) as { access_token: string }).access_token).jti;
    const from = published.length;
    await ctx().users.disable(erin.id, 'test');
    const event = revokedSince(published, from)[0]!;
    assert.equal(event.reason, 'user_disabled');
    assert.ok(event.tokenIds.includes(String(jti)));
  });
});

await forEachDialect('API token exchange behind a trusted proxy', (dialect) => {
  let fx: OAuthFixture;
  let gateway: ExchangeClient;
  before(async () => {
    fx = await startOAuthService(dialect, { config: { http: { trustedProxies: ['127.0.0.1/32'] } } });
    gateway = await registerExchangeClient(fx);
  });
  after(async () => { await fx.close(); });

  test('ok: last-used address is the end client the gateway names in X-Forwarded-For', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const res = await exchange(fx, gateway, token, {}, { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(res.status, 200);
    const listed = (await fx.svc.service.context.apiTokens.list(fx.users.alice)).find((t) => t.id === summary.id);
    assert.equal(listed?.lastUsedAddress, '203.0.113.9');
  });
});
