/**
 * Connected apps on the account page (issue 8), over real HTTP: a third-party app alice allowed
 * (consent page, offline access) is listed with what it may do; Disconnect on the page revokes its
 * grant at once — its refresh token fails and its access token is named in `tokens.revoked` — and
 * the refusals (an app that is not connected, a post without the CSRF token).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { authorizationUrl, rp, Browser, revokedSince } from './oauth/helpers.ts';
import { startThirdPartyFixture, openAuthorization, answerConsent, claimsOf, APP_SCOPE, type ThirdPartyFixture } from './oauth/third-party.ts';
import type { PublishedEvent } from '../src/events/types.ts';
import { alerts, page, signIn, submit, submitAndFollow } from './account/helpers.ts';

await forEachDialect('account page: connected apps', (dialect) => {
  let t: ThirdPartyFixture;
  let shop: oidc.Configuration;
  const published: PublishedEvent[] = [];
  before(async () => {
    t = await startThirdPartyFixture(dialect);
    t.fx.svc.service.context.events.subscribe((event) => published.push(event));
    shop = await rp(t.fx.issuer, 'shop', t.fx.firstParty.secret);
  });
  after(async () => { await t?.close(); });

  /** `username` connects book-club (consent page, Allow); the app redeems the code. */
  async function connect(username: string) {
    const browser = new Browser();
    const started = await authorizationUrl(t.app, { scope: APP_SCOPE, prompt: 'consent' });
    const step = await openAuthorization(browser, t.fx.issuer, started.url, username);
    const callback = step.res.status === 200 ? await answerConsent(browser, t.fx.issuer, step.html, 'allow') : new URL(step.url);
    return oidc.authorizationCodeGrant(t.app, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
  }

  test('ok: the connected app is listed with what it may do; Disconnect revokes its refresh and access tokens at once', async () => {
    const tokens = await connect('alice');
    const alice = await signIn(t.fx, shop, 'alice');
    const html = await (await page(alice)).text();
    assert.match(html, /<caption>Apps with access to your account<\/caption>/);
    assert.match(html, /<th scope="row" role="rowheader">Book Club<\/th>/);
    assert.match(html, /<code>orders:read<\/code>/);
    assert.match(html, /name="client" value="book-club"><button type="submit" class="secondary">Disconnect Book Club<\/button>/);
    const from = published.length;
    const { html: after } = await submitAndFollow(alice, '/account/apps/disconnect', { client: 'book-club' });
    assert.match(alerts(after).join(' '), /The app was disconnected/);
    assert.match(after, /No apps are connected to your account/);
    await assert.rejects(oidc.refreshTokenGrant(t.app, tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    const jti = String(claimsOf(tokens.access_token).jti);
    assert.ok(revokedSince(published, from).some((e) => e.tokenIds.includes(jti)), 'tokens.revoked names the app\'s access token');
    // Her own session is untouched.
    assert.equal((await page(alice)).status, 200);
  });

  test('fail-not-connected: disconnecting an app that is not connected changes nothing', async () => {
    const alice = await signIn(t.fx, shop, 'alice');
    const { html } = await submitAndFollow(alice, '/account/apps/disconnect', { client: 'shop' });
    assert.match(alerts(html).join(' '), /That app is not connected/);
  });

  test('fail-csrf: a disconnect without the CSRF token is refused and the app keeps its access', async () => {
    const tokens = await connect('bob');
    const bob = await signIn(t.fx, shop, 'bob');
    const res = await submit(bob, '/account/apps/disconnect', { client: 'book-club' }, { csrf: null });
    assert.equal(res.status, 403);
    assert.ok((await oidc.refreshTokenGrant(t.app, tokens.refresh_token!)).access_token);
  });
});
