/**
 * Personal API tokens on the account page (issue 8), over real HTTP: created from the form and
 * shown once with a curl example, listed, usable in the token exchange (what the gateway does with
 * `Bearer gth_…`), revoked from the page; and the refusals (a scope the user cannot give, an expiry
 * not offered, someone else's token). Through the gateway with curl: test/bookstore-account.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startShopFixture, revokedSince, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';
import { registerExchangeClient, exchange, claimsOf, makeToken, type ExchangeClient } from './helpers/api-tokens.ts';
import type { PublishedEvent } from '../src/events/types.ts';
import { alerts, page, signIn, submit, submitAndFollow } from './account/helpers.ts';

const DAYS_30 = String(30 * 86400);
const TOKEN = /readonly value="(gth_[A-Za-z0-9_]+)"/;

await forEachDialect('account page: personal API tokens', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let published: PublishedEvent[];
  let gateway: ExchangeClient;
  before(async () => {
    ({ fx, shop, published } = await startShopFixture(dialect));
    gateway = await registerExchangeClient(fx);
  });
  after(async () => { await fx.close(); });

  async function newUser(username: string, roles = ['customer']): Promise<string> {
    return (await fx.svc.service.context.users.create({ username, email: `${username}@example.com`, password: PASSWORD, roles }, 'test')).id;
  }

  test('ok: a token made on the page is shown once with a curl example, listed, and exchanges for a scope-bound JWT', async () => {
    const id = await newUser('ada');
    const ada = await signIn(fx, shop, 'ada');
    const { html } = await submitAndFollow(ada, '/account/tokens', { name: 'orders script', scopes: ['orders:read', 'books:read'], expiresIn: DAYS_30 });
    assert.match(alerts(html).join(' '), /The token “orders script” was created/);
    const token = TOKEN.exec(html)?.[1];
    assert.ok(token, 'the new token is on the page');
    assert.match(html, /shown only this once/);
    assert.ok(html.includes(`curl -H &quot;Authorization: Bearer ${token}&quot; ${fx.api}`), 'a curl example with the token');
    assert.match(html, /<th scope="row" role="rowheader">orders script<\/th>/);
    // Shown once: the next page has the list, not the token.
    const again = await (await page(ada)).text();
    assert.ok(!again.includes(token));
    assert.match(again, /orders script/);
    const listed = await fx.svc.service.context.apiTokens.list(id);
    assert.deepEqual(listed.map((t) => [t.name, t.scopes.toSorted()]), [['orders script', ['books:read', 'orders:read']]]);
    assert.ok(Math.abs(listed[0]!.expiresAt - listed[0]!.createdAt - 30 * 86400) <= 1);
    const res = await exchange(fx, gateway, token);
    assert.equal(res.status, 200);
    const jwt = claimsOf(((await res.json()) as { access_token: string }).access_token);
    assert.equal(jwt.sub, id);
    assert.equal(jwt.scope_bound, true);
  });

  test('ok: revoking on the page removes it from the list; its exchange then fails and the exchanged JWTs are named in tokens.revoked', async () => {
    const id = await newUser('bea');
    const bea = await signIn(fx, shop, 'bea');
    const { token, summary } = await makeToken(fx, id, { name: 'old script' });
    const exchanged = claimsOf(((await (await exchange(fx, gateway, token)).json()) as { access_token: string }).access_token);
    const html = await (await page(bea)).text();
    assert.match(html, new RegExp(`name="id" value="${summary.id}"><button type="submit" class="secondary">Revoke old script</button>`));
    const from = published.length;
    const { html: after } = await submitAndFollow(bea, '/account/tokens/revoke', { id: summary.id });
    assert.match(alerts(after).join(' '), /The token was revoked/);
    assert.doesNotMatch(after, /old script/);
    const refused = await exchange(fx, gateway, token);
    assert.equal(refused.status, 400);
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant');
    assert.ok(revokedSince(published, from).some((e) => e.reason === 'api_token_revoked' && e.tokenIds.includes(String(exchanged.jti))));
  });

  test('fail-scope-not-held: a scope the user cannot give is refused, nothing created', async () => {
    const id = await newUser('cyd');
    const cyd = await signIn(fx, shop, 'cyd');
    assert.doesNotMatch(await (await page(cyd)).text(), /value="catalog:write"/, 'not offered to a customer');
    const { html } = await submitAndFollow(cyd, '/account/tokens', { name: 'sneaky', scopes: ['catalog:write'], expiresIn: DAYS_30 });
    assert.match(alerts(html).join(' '), /cannot give a token the scope catalog:write/);
    assert.doesNotMatch(html, /gth_/);
    assert.deepEqual(await fx.svc.service.context.apiTokens.list(id), []);
  });

  test('fail-expiry-not-offered: an expiry the form does not offer is refused, nothing created', async () => {
    const id = await newUser('dov');
    const dov = await signIn(fx, shop, 'dov');
    const { html } = await submitAndFollow(dov, '/account/tokens', { name: 'forever', scopes: ['books:read'], expiresIn: String(10 * 365 * 86400) });
    assert.match(alerts(html).join(' '), /offered expiry/);
    assert.deepEqual(await fx.svc.service.context.apiTokens.list(id), []);
  });

  test('fail-no-scope: a token without any scope is refused, nothing created', async () => {
    const id = await newUser('eli');
    const eli = await signIn(fx, shop, 'eli');
    const { html } = await submitAndFollow(eli, '/account/tokens', { name: 'empty', expiresIn: DAYS_30 });
    assert.match(alerts(html).join(' '), /incomplete or malformed/);
    assert.deepEqual(await fx.svc.service.context.apiTokens.list(id), []);
  });

  test("fail-not-owner: revoking someone else's token changes nothing", async () => {
    await newUser('fay');
    const fay = await signIn(fx, shop, 'fay');
    const { token, summary } = await makeToken(fx, fx.users.bob, { name: 'bobs', scopes: ['books:read'] });
    const { html } = await submitAndFollow(fay, '/account/tokens/revoke', { id: summary.id });
    assert.match(alerts(html).join(' '), /No such token/);
    assert.equal((await exchange(fx, gateway, token)).status, 200);
  });

  test('fail-api-token-jwt: the JWT an API token is exchanged for (scope-bound, no session) never opens the page', async () => {
    const { token } = await makeToken(fx, fx.users.alice, { scopes: ['books:read'] });
    const jwt = ((await (await exchange(fx, gateway, token)).json()) as { access_token: string }).access_token;
    assert.equal(claimsOf(jwt).scope_bound, true);
    assert.equal((await fetch(`${fx.issuer}/account`, { headers: { authorization: `Bearer ${jwt}` } })).status, 401);
    assert.equal((await fetch(`${fx.issuer}/account`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  });

  test('fail-csrf: a token cannot be created by a post without the CSRF token', async () => {
    const id = await newUser('gus');
    const gus = await signIn(fx, shop, 'gus');
    const res = await submit(gus, '/account/tokens', { name: 'forged', scopes: ['books:read'], expiresIn: DAYS_30 }, { csrf: null });
    assert.equal(res.status, 403);
    assert.deepEqual(await fx.svc.service.context.apiTokens.list(id), []);
  });
});
