/** Refresh-token rotation, reuse detection, client binding, and logout revoking everything. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import type { AuditEvent } from '../src/events/audit.ts';
import { startShopFixture, revokedSince, codeFlow, authorizationUrl, Browser, post, basic, tokenRequest, auditProbe, type OAuthFixture } from './oauth/helpers.ts';
import type { PublishedEvent } from '../src/events/types.ts';

const OFFLINE = { scope: 'openid offline_access books:read', prompt: 'consent' };

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

const isInvalidGrant = (error: { error?: string }) => error.error === 'invalid_grant';

await forEachDialect('oauth refresh and logout', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let published: PublishedEvent[];
  before(async () => { ({ fx, shop, published } = await startShopFixture(dialect)); });
  after(async () => { await fx.close(); });
  const auditHead = () => auditProbe(fx).head();
  const lastAudit = (event: AuditEvent, since: number) => auditProbe(fx).last(event, since);

  test('ok: a refresh rotates the refresh token and issues a new JWT', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE });
    const refreshed = await oidc.refreshTokenGrant(shop, tokens.refresh_token!);
    assert.ok(refreshed.refresh_token);
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
    assert.notEqual(claims(refreshed.access_token).jti, claims(tokens.access_token).jti);
    assert.equal(claims(refreshed.access_token).sid, claims(tokens.access_token).sid);
    assert.deepEqual(claims(refreshed.access_token).roles, ['customer']);
  });

  test('fail-reuse: a rotated refresh token revokes the grant; the newer one fails too', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE });
    const refreshed = await oidc.refreshTokenGrant(shop, tokens.refresh_token!);
    const from = published.length;
    const since = await auditHead();
    await assert.rejects(oidc.refreshTokenGrant(shop, tokens.refresh_token!), isInvalidGrant);
    const reused = await lastAudit('refresh_token.reused', since);
    assert.equal(reused.subject, fx.users.alice);
    assert.equal(reused.reason, 'reuse_detected');
    assert.equal(reused.clientId, 'shop');
    assert.equal((await lastAudit('token.refused', since)).reason, 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(shop, refreshed.refresh_token!), isInvalidGrant);
    const event = revokedSince(published, from).find((e) => e.reason === 'refresh_token_reused');
    assert.ok(event, 'tokens.revoked published');
    assert.ok(event.tokenIds.includes(String(claims(refreshed.access_token).jti)));
    assert.equal(event.sessionId, claims(refreshed.access_token).sid);
  });

  test('fail-parallel-reuse: five refreshes racing with one token: exactly one wins, every other gets invalid_grant', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => oidc.refreshTokenGrant(shop, tokens.refresh_token!)));
    const winners = results.filter((r) => r.status === 'fulfilled');
    const losers = results.filter((r) => r.status === 'rejected');
    assert.equal(winners.length, 1, `${winners.length} parallel refreshes succeeded`);
    for (const loser of losers) assert.equal((loser.reason as { error?: string }).error, 'invalid_grant', String(loser.reason));
    // The losers were a replay: the grant is revoked, so the winner's new refresh token is dead too.
    await assert.rejects(oidc.refreshTokenGrant(shop, winners[0]!.value.refresh_token!), isInvalidGrant);
  });

  test('fail-other-client: a refresh token is bound to its client', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE });
    const since = await auditHead();
    const res = await tokenRequest(fx.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, basic('partner', fx.thirdParty.secret));
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_grant');
    const row = await lastAudit('token.refused', since);
    assert.equal(row.reason, 'invalid_grant');
    assert.equal(row.clientId, 'partner');
    assert.equal(row.data?.grantType, 'refresh_token');
    assert.doesNotMatch(JSON.stringify(row), new RegExp(tokens.refresh_token!));
    // …and it still works for its own client.
    assert.ok((await oidc.refreshTokenGrant(shop, tokens.refresh_token!)).access_token);
  });

  test('ok: RP-initiated logout ends the session and revokes offline refresh tokens', async () => {
    const browser = new Browser();
    const { tokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE, browser });
    const from = published.length;
    const logoutUrl = oidc.buildEndSessionUrl(shop, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://127.0.0.1:9/bye', state: 'xyz' });
    const page = await browser.fetch(logoutUrl.href);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const html = await page.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const done = await post(browser, new URL(action, fx.issuer).href, { xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
    assert.equal(new URL(done.headers.get('location')!).origin + new URL(done.headers.get('location')!).pathname, 'http://127.0.0.1:9/bye');
    await assert.rejects(oidc.refreshTokenGrant(shop, tokens.refresh_token!), isInvalidGrant);
    const intro = await oidc.tokenIntrospection(shop, tokens.access_token);
    assert.equal(intro.active, false);
    const audit = await fx.svc.service.context.audit.list({ event: 'logout.succeeded' });
    assert.ok(audit.some((e) => e.subject === fx.users.alice));
    const event = revokedSince(published, from).find((e) => e.reason === 'logout');
    assert.ok(event);
    assert.equal(event.subject, fx.users.alice);
    assert.ok(event.tokenIds.includes(String(claims(tokens.access_token).jti)));
    assert.equal(event.sessionId, claims(tokens.access_token).sid);
    // Deny by issue time up to the logout, until the last outstanding token has expired.
    const now = Math.floor(Date.now() / 1000);
    assert.ok(event.issuedBefore >= Number(claims(tokens.access_token).iat) && event.issuedBefore <= now, `issuedBefore ${event.issuedBefore}`);
    assert.ok(event.until >= Number(claims(tokens.access_token).exp) && event.until <= now + 600, `until ${event.until}`);
    assert.equal(revokedSince(published, from).filter((e) => e.reason === 'logout' && e.subject === fx.users.alice && e.sessionId !== undefined).length, 1);
    // The SSO session is gone: the next authorization asks for the password again.
    const again = await browser.follow((await authorizationUrl(shop)).url.href, fx.issuer);
    assert.match(await again.res.text(), /name="password"/);
  });

  test('ok: disabling a user (identity) revokes their refresh tokens through oauth', async () => {
    const ctx = fx.svc.service.context;
    await ctx.users.create({ username: 'erin', email: 'erin@example.com', password: 'Quartz-Lantern-Meadow-8142', roles: [] }, 'test');
    const { tokens } = await codeFlow(shop, fx.issuer, { username: 'erin', params: OFFLINE });
    const from = published.length;
    await ctx.users.disable('erin', 'test');
    await ctx.users.enable('erin', 'test');
    await assert.rejects(oidc.refreshTokenGrant(shop, tokens.refresh_token!), isInvalidGrant);
    assert.ok(revokedSince(published, from).some((e) => e.tokenIds.includes(String(claims(tokens.access_token).jti))));
  });
});
