/**
 * The consent page of a third-party app through real HTTP forms: it names the app and says in
 * words what each scope gives; Allow issues scope-bound tokens, Deny sends access_denied and is
 * audited; a grant is remembered across sign-ins; scopes the app is not registered for and
 * consent posted cross-site are refused with nothing stored.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { authorizationUrl, codeFlow, rp, Browser, formField, auditProbe, tokenRequest, basic, CALLBACK } from './oauth/helpers.ts';
import { startThirdPartyFixture, openAuthorization, answerConsent, claimsOf, grantsOf, type ThirdPartyFixture } from './oauth/third-party.ts';

await forEachDialect('oauth consent', (dialect) => {
  let t: ThirdPartyFixture;
  before(async () => { t = await startThirdPartyFixture(dialect); });
  after(async () => { await t.close(); });

  /** A new customer, signed in with a browser of their own, on Book Club's consent page for `openid orders:read`. */
  const onConsentPage = async (username: string) => {
    const user = await t.fx.svc.service.context.users.create({ username, email: `${username}@example.com`, password: 'Quartz-Lantern-Meadow-8142', roles: ['customer'] }, 'test');
    const browser = new Browser();
    const started = await authorizationUrl(t.app, { scope: 'openid orders:read' });
    const page = await openAuthorization(browser, t.fx.issuer, started.url, username);
    const action = new URL(/action="([^"]*\/consent)"/.exec(page.html)![1]!, t.fx.issuer).href;
    return { user, browser, started, page, action };
  };

  test('ok: the consent page names the app, says in words what each scope gives, and is accessible and unframeable', async () => {
    const started = await authorizationUrl(t.app, { scope: 'openid profile orders:read' });
    const page = await openAuthorization(new Browser(), t.fx.issuer, started.url, 'bob');
    assert.equal(page.res.status, 200);
    const { html } = page;
    assert.match(html, /<h1>Allow access\?<\/h1>/);
    assert.match(html, /<strong>Book Club<\/strong> asks to access your account <strong>bob<\/strong>/);
    assert.match(html, /<ul class="scopes" aria-labelledby="consent-scopes">/);
    assert.match(html, /<h2 id="consent-scopes">Book Club will be able to<\/h2>/);
    assert.match(html, /<li>Read your orders <code class="scope">orders:read<\/code><\/li>/);
    assert.match(html, /<li>See your username <code class="scope">profile<\/code><\/li>/);
    assert.match(html, /<li>Know who you are \(your user id\) <code class="scope">openid<\/code><\/li>/);
    assert.match(html, /<button type="submit" autofocus>Allow<\/button>/);
    assert.match(html, /<button type="submit" class="secondary">Deny<\/button>/);
    assert.match(page.res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(page.res.headers.get('x-frame-options'), 'DENY');
  });

  test('ok: Allow issues a scope-bound access token carrying only the granted scope; a first-party token is not scope-bound', async () => {
    const browser = new Browser();
    const started = await authorizationUrl(t.app, { scope: 'openid profile orders:read' });
    const since = await auditProbe(t.fx).head();
    const page = await openAuthorization(browser, t.fx.issuer, started.url);
    const callback = await answerConsent(browser, t.fx.issuer, page.html, 'allow');
    const tokens = await oidc.authorizationCodeGrant(t.app, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
    const claims = claimsOf(tokens.access_token);
    assert.equal(claims.scope_bound, true);
    assert.equal(claims.scope, 'orders:read');
    assert.equal(claims.client_id, 'book-club');
    assert.equal(claims.sub, t.fx.users.alice);
    const granted = await auditProbe(t.fx).last('consent.granted', since);
    assert.equal(granted.clientId, 'book-club');
    assert.deepEqual(granted.data?.scopes, ['openid', 'profile', 'orders:read']);
    const shop = await rp(t.fx.issuer, 'shop', t.fx.firstParty.secret);
    const own = await codeFlow(shop, t.fx.issuer, { username: 'bob' });
    assert.equal(claimsOf(own.tokens.access_token).scope_bound, undefined);
  });

  test('ok: a grant is remembered: signing in again (another browser) for the same scopes skips the page; more scopes ask only for the new one', async () => {
    const first = new Browser();
    const started = await authorizationUrl(t.app, { scope: 'openid orders:read' });
    const page = await openAuthorization(first, t.fx.issuer, started.url, 'bob');
    assert.equal(page.res.status, 200);
    await answerConsent(first, t.fx.issuer, page.html, 'allow');

    const since = await auditProbe(t.fx).head();
    const again = await authorizationUrl(t.app, { scope: 'openid orders:read' });
    const second = await openAuthorization(new Browser(), t.fx.issuer, again.url, 'bob');
    assert.ok(second.res.status >= 300 && second.res.status < 400, `expected the redirect to the app, got ${second.res.status}`);
    const callback = new URL(second.url);
    assert.ok(callback.searchParams.get('code'), 'a code, no consent page');
    const tokens = await oidc.authorizationCodeGrant(t.app, callback, { pkceCodeVerifier: again.verifier, expectedState: again.state });
    assert.equal(claimsOf(tokens.access_token).scope, 'orders:read');
    assert.deepEqual((await t.fx.svc.service.context.audit.list({ event: 'consent.granted' })).filter((e) => e.seq > since), []);

    const more = await authorizationUrl(t.app, { scope: 'openid profile orders:read' });
    const third = await openAuthorization(new Browser(), t.fx.issuer, more.url, 'bob');
    assert.equal(third.res.status, 200);
    assert.match(third.html, /See your username/);
    assert.doesNotMatch(third.html, /Read your orders/);
  });

  test('fail-consent-denied: Deny sends access_denied to the app, is audited consent.denied, and stores no grant', async () => {
    const { user: dave, browser, page } = await onConsentPage('dave');
    const since = await auditProbe(t.fx).head();
    const callback = await answerConsent(browser, t.fx.issuer, page.html, 'deny');
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('code'), null);
    const denied = await auditProbe(t.fx).last('consent.denied', since);
    assert.equal(denied.subject, dave.id);
    assert.equal(denied.clientId, 'book-club');
    assert.equal(denied.reason, 'user_denied');
    assert.deepEqual(denied.data?.scopes, ['openid', 'orders:read']);
    assert.equal(await grantsOf(t.fx, dave.id, 'book-club'), 0);
  });

  test('fail-invalid-scope: a scope the app is not registered for is invalid_scope at its callback, audited, nothing stored', async () => {
    const db = t.fx.svc.service.context.store.db;
    const count = async () => Number((await db.selectFrom('oidc_models').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const rowsBefore = await count();
    const since = await auditProbe(t.fx).head();
    const started = await authorizationUrl(t.app, { scope: 'openid orders:read orders:create' });
    const res = await new Browser().fetch(started.url.href);
    assert.equal(res.status, 303);
    const callback = new URL(res.headers.get('location')!);
    assert.equal(callback.origin + callback.pathname, 'http://127.0.0.1:9/callback');
    assert.equal(callback.searchParams.get('error'), 'invalid_scope');
    assert.equal(callback.searchParams.get('state'), started.state);
    const refused = await auditProbe(t.fx).last('authorization.refused', since);
    assert.equal(refused.reason, 'invalid_scope');
    assert.equal(refused.clientId, 'book-club');
    assert.equal(await count(), rowsBefore);
  });

  test('fail-consent-cross-site: a consent post from another site (no interaction cookie: SameSite) is refused and grants nothing', async () => {
    const ctx = t.fx.svc.service.context;
    const { user: erin, started, page, action } = await onConsentPage('erin');
    // The interaction cookie is SameSite=Lax: a browser does not send it on a cross-site POST.
    const first = await fetch(started.url.href, { redirect: 'manual' });
    assert.ok(first.headers.getSetCookie().filter((c) => c.startsWith('_interaction=')).every((c) => /samesite=lax/i.test(c)));
    const since = await auditProbe(t.fx).head();
    const forged = await fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: new URLSearchParams({ csrf: formField(page.html, 'csrf') }).toString() });
    assert.equal(forged.status, 400);
    assert.equal(forged.headers.get('location'), null);
    assert.equal(forged.headers.get('x-frame-options'), 'DENY');
    assert.deepEqual((await ctx.audit.list({ event: 'consent.granted' })).filter((e) => e.seq > since), []);
    assert.equal(await grantsOf(t.fx, erin.id, 'book-club'), 0);
    const refused = (await ctx.audit.list({ event: 'interaction.refused' })).filter((e) => e.seq > since);
    assert.deepEqual(refused.map((e) => [e.reason, e.data?.path]), [['expired', '/interaction/:uid/consent']]);
  });

  test('fail-consent-foreign-csrf: a consent post carrying another page\'s CSRF token is refused (403), audited, and grants nothing', async () => {
    const ctx = t.fx.svc.service.context;
    const { user: fay, browser, page, action } = await onConsentPage('fay');
    const since = await auditProbe(t.fx).head();
    const forged = await browser.fetch(action, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf: 'a-token-of-another-page' }).toString() });
    assert.equal(forged.status, 403);
    assert.equal(await grantsOf(t.fx, fay.id, 'book-club'), 0);
    const refused = (await ctx.audit.list({ event: 'interaction.refused' })).filter((e) => e.seq > since);
    assert.deepEqual(refused.map((e) => e.reason), ['csrf_token']);
    // Refused consent and cancel posts count toward the address's refusal limit, as refused sign-ins do.
    assert.equal(ctx.refusals.endpoint('/interaction/:uid/consent'), 'page');
    assert.equal(ctx.refusals.endpoint('/interaction/:uid/abort'), 'page');
  });

  /** An offline grant of book-club for `username` (prompt=consent: the page every time). */
  async function offlineTokens(username: string) {
    const browser = new Browser();
    const started = await authorizationUrl(t.app, { scope: 'openid offline_access orders:read', prompt: 'consent' });
    const page = await openAuthorization(browser, t.fx.issuer, started.url, username);
    const callback = await answerConsent(browser, t.fx.issuer, page.html, 'allow');
    const tokens = await oidc.authorizationCodeGrant(t.app, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
    return { tokens, callback, started };
  }

  test('fail-code-replay: the app redeeming its code twice gets invalid_grant, and the first redemption\'s refresh token dies', async () => {
    const { tokens, callback, started } = await offlineTokens('bob');
    const replay = await tokenRequest(t.fx.issuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: started.verifier }, basic('book-club', t.appSecret));
    assert.equal(replay.status, 400);
    assert.equal((await replay.json() as { error: string }).error, 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(t.app, tokens.refresh_token!), (error: { error?: string }) => error.error === 'invalid_grant');
  });

  test('fail-other-app-refresh-token: another app presenting the app\'s refresh token gets invalid_grant; the app\'s still works', async () => {
    const { tokens } = await offlineTokens('bob');
    const stolen = await tokenRequest(t.fx.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token! }, basic('partner', t.fx.thirdParty.secret));
    assert.equal(stolen.status, 400);
    assert.equal((await stolen.json() as { error: string }).error, 'invalid_grant');
    const [refused] = await t.fx.svc.service.context.audit.list({ event: 'token.refused', latest: true, limit: 1 });
    assert.deepEqual([refused?.clientId, refused?.reason], ['partner', 'invalid_grant'], 'the refusal is audited');
    const refreshed = await oidc.refreshTokenGrant(t.app, tokens.refresh_token!);
    assert.equal(claimsOf(refreshed.access_token).scope_bound, true);
  });
});
