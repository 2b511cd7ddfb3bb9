/**
 * Revocation of personal API tokens: the public `POST /api-tokens/revoke` (anyone who finds a
 * leaked token; the same answer whatever the token), and the owner's own revocation through the
 * account-page contract (`apiTokens.create/list/revoke`, shared contract 3).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/dialects.ts';
import { startShopFixture, startOAuthService, auditProbe, revokedSince, type OAuthFixture } from './oauth/helpers.ts';
import { registerExchangeClient, exchange, claimsOf, makeToken, type ExchangeClient } from './helpers/api-tokens.ts';
import { generateApiToken } from '../src/tokens/api-tokens/format.ts';
import type { PublishedEvent } from '../src/events/types.ts';

await forEachDialect('API token revocation', (dialect) => {
  let fx: OAuthFixture;
  let published: PublishedEvent[];
  let gateway: ExchangeClient;
  before(async () => {
    ({ fx, published } = await startShopFixture(dialect));
    gateway = await registerExchangeClient(fx);
  });
  after(async () => { await fx.close(); });

  const ctx = () => fx.svc.service.context;
  const report = (body: string, type = 'application/json') => fetch(`${fx.issuer}/api-tokens/revoke`, { method: 'POST', headers: { 'content-type': type }, body });
  const revokedRows = async () => (await ctx().audit.list({ event: 'api_token.revoked', limit: 10_000 })).length;

  test('ok: a leaked token posted by anyone is revoked (204), audited as leaked, and its exchanged JWTs named in tokens.revoked', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const jti = claimsOf(((await (await exchange(fx, gateway, token)).json()) as { access_token: string }).access_token).jti;
    const probe = auditProbe(fx);
    const head = await probe.head();
    const from = published.length;
    const res = await report(JSON.stringify({ token }));
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    const row = await probe.last('api_token.revoked', head);
    assert.equal(row.reason, 'leaked');
    assert.equal(row.subject, fx.users.alice);
    assert.equal(row.actor, 'ip:127.0.0.1');
    assert.equal(row.data?.apiTokenId, summary.id);
    const events = revokedSince(published, from);
    assert.deepEqual(events.map((e) => [e.reason, e.tokenIds]), [['api_token_revoked', [jti]]]);
    const again = await exchange(fx, gateway, token);
    assert.equal(((await again.json()) as { error: string }).error, 'invalid_grant');
  });

  test('ok: an HTML form post (token=…) works too, for a "report a leaked token" page', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const res = await report(new URLSearchParams({ token }).toString(), 'application/x-www-form-urlencoded');
    assert.equal(res.status, 204);
    assert.ok(!(await ctx().apiTokens.list(fx.users.alice)).some((t) => t.id === summary.id));
  });

  test('ok: the same answer for an unknown, a mistyped, an already revoked and a non-token string; nothing audited', async () => {
    const { token } = await makeToken(fx, fx.users.alice);
    await report(JSON.stringify({ token }));
    const rows = await revokedRows();
    for (const candidate of [generateApiToken(), token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A'), token, 'password123']) {
      const res = await report(JSON.stringify({ token: candidate }));
      assert.equal(res.status, 204, candidate);
      assert.equal(await res.text(), '');
    }
    assert.equal(await revokedRows(), rows);
  });

  test('fail-malformed-body: not JSON, no token, a token that is not a string (or a bare token as text/plain) → 400; nothing revoked', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    for (const [body, type] of [['{"token":', 'application/json'], ['{}', 'application/json'], ['{"token": 42}', 'application/json'], ['[]', 'application/json'], [token, 'text/plain']] as const) {
      const res = await report(body, type);
      assert.equal(res.status, 400, body);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(((await res.json()) as { code: string }).code, 'invalid_request');
    }
    assert.ok((await ctx().apiTokens.list(fx.users.alice)).some((t) => t.id === summary.id), 'still live');
  });

  test('ok: account-page contract — create, list, revoke by the owner (revoked_by_owner); another user\'s id → false', async () => {
    const apiTokens = ctx().apiTokens;
    const owner = `user:${fx.users.alice}`;
    const { token, summary } = await apiTokens.create({ userId: fx.users.alice, name: 'account-page', scopes: ['orders:read'], expiresIn: 3600 }, owner);
    assert.match(token, /^gth_/);
    assert.deepEqual(Object.keys(summary).sort(), ['createdAt', 'expiresAt', 'id', 'name', 'scopes']);
    const listed = (await apiTokens.list(fx.users.alice)).find((t) => t.id === summary.id);
    assert.deepEqual(listed, summary);
    assert.equal(await apiTokens.revoke(fx.users.bob, summary.id, `user:${fx.users.bob}`), false, 'not bob\'s token');
    assert.equal(await apiTokens.revoke(fx.users.alice, summary.id, owner), true);
    assert.equal(await apiTokens.revoke(fx.users.alice, summary.id, owner), false, 'already revoked');
    assert.ok(!(await apiTokens.list(fx.users.alice)).some((t) => t.id === summary.id));
    const audit = await ctx().audit.list({ event: 'api_token.revoked', latest: true, limit: 1 });
    assert.equal(audit[0]?.reason, 'revoked_by_owner');
    assert.equal(audit[0]?.actor, owner);
  });
});

describe('POST /api-tokens/revoke under the refusal limiter', () => {
  let fx: OAuthFixture;
  before(async () => { fx = await startOAuthService('sqlite', { config: { http: { refusalLimit: 3, refusalWindow: '1m', refusalBlock: '1m' } } }); });
  after(async () => { await fx.close(); });

  test('fail-rate-limited: after refusalLimit malformed bodies the address is answered 429, and nothing is revoked', async () => {
    const { token, summary } = await makeToken(fx, fx.users.alice);
    const post = (body: string) => fetch(`${fx.issuer}/api-tokens/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (let i = 0; i < 3; i++) assert.equal((await post('{}')).status, 400);
    const blocked = await post(JSON.stringify({ token }));
    assert.equal(blocked.status, 429);
    assert.ok(blocked.headers.get('retry-after'));
    assert.ok((await fx.svc.service.context.apiTokens.list(fx.users.alice)).some((t) => t.id === summary.id), 'still live');
  });
});
