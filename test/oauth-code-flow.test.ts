/** Authorization code + PKCE through the real login form; consent; userinfo; code misuse. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify, decodeProtectedHeader } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import type { AuditEvent } from '../src/events/audit.ts';
import { startShopFixture, revokedSince, rp, codeFlow, authorizationUrl, signIn, Browser, formAction, formField, post, tokenRequest, basic, CALLBACK, PASSWORD, auditProbe, type OAuthFixture } from './oauth/helpers.ts';
import type { PublishedEvent } from '../src/events/types.ts';

await forEachDialect('oauth code flow', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let published: PublishedEvent[];
  before(async () => { ({ fx, shop, published } = await startShopFixture(dialect)); });
  after(async () => { await fx.close(); });
  const auditHead = () => auditProbe(fx).head();
  const lastAudit = (event: AuditEvent, since: number) => auditProbe(fx).last(event, since);

  const audit = (event: string) => fx.svc.service.context.audit.list({ event: event as never });

  test('ok: first-party login without consent gives an RFC 9068 JWT access token', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer);
    assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'at+jwt');
    assert.equal(decodeProtectedHeader(tokens.access_token).alg, 'ES256');
    const jwks = createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: fx.issuer, audience: fx.api, typ: 'at+jwt' });
    assert.equal(payload.sub, fx.users.alice);
    assert.equal(payload.client_id, 'shop');
    assert.equal(payload.scope, 'books:read');
    assert.deepEqual(payload.roles, ['customer']);
    assert.equal(typeof payload.sid, 'string');
    assert.equal(typeof payload.jti, 'string');
    assert.equal(Number(payload.exp) - Number(payload.iat), 600);
    assert.equal(tokens.claims()?.sub, fx.users.alice);
    const issued = await fx.svc.service.context.store.db.selectFrom('issued_tokens').selectAll().where('jti', '=', String(payload.jti)).executeTakeFirst();
    assert.equal(issued?.subject, fx.users.alice);
    assert.equal(issued?.session_id, payload.sid);
    assert.ok((await audit('token.issued')).some((e) => e.data?.jti === payload.jti));
  });

  test('ok: the admin resource (aud = issuer) carries the user roles', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { username: 'bob', params: { scope: 'openid admin', resource: fx.issuer } });
    const jwks = createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`));
    const { payload } = await jwtVerify(tokens.access_token, jwks, { issuer: fx.issuer, audience: fx.issuer, typ: 'at+jwt' });
    assert.equal(payload.scope, 'admin');
    assert.deepEqual(payload.roles, ['admin', 'staff']);
  });

  test('ok: a third-party client gets the consent page; allowing it completes the flow', async () => {
    const partner = await rp(fx.issuer, 'partner', fx.thirdParty.secret);
    const browser = new Browser();
    const started = await authorizationUrl(partner);
    const login = await browser.follow(started.url.href, fx.issuer);
    const loginHtml = await login.res.text();
    const afterLogin = await post(browser, new URL(formAction(loginHtml, '/login'), fx.issuer).href, { csrf: formField(loginHtml, 'csrf'), username: 'alice', password: PASSWORD });
    const consent = await browser.follow(new URL(afterLogin.headers.get('location')!, fx.issuer).href, fx.issuer);
    assert.equal(consent.res.status, 200);
    const html = await consent.res.text();
    assert.match(html, /Partner App/);
    assert.match(html, /books:read/);
    assert.match(consent.res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const callback = await signIn(browser, fx.issuer, started.url, { consent: true });
    const tokens = await oidc.authorizationCodeGrant(partner, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
    assert.ok(tokens.access_token);
    assert.ok((await audit('consent.granted')).some((e) => e.clientId === 'partner' && e.reason === 'user_consent'));
  });

  test('fail-consent-denied: denying consent sends access_denied to the client', async () => {
    const partner = await rp(fx.issuer, 'partner', fx.thirdParty.secret);
    const browser = new Browser();
    const started = await authorizationUrl(partner, { scope: 'openid email' });
    const callback = await signIn(browser, fx.issuer, started.url).catch(() => undefined);
    assert.equal(callback, undefined, 'consent page expected, not a redirect');
    const consent = await browser.follow(started.url.href, fx.issuer);
    const html = await consent.res.text();
    const res = await post(browser, new URL(formAction(html, '/abort'), fx.issuer).href, { csrf: formField(html, 'csrf') });
    const done = await browser.follow(new URL(res.headers.get('location')!, fx.issuer).href, fx.issuer);
    assert.equal(new URL(done.url).searchParams.get('error'), 'access_denied');
  });

  test('ok: OpenID-only grants get a userinfo token; userinfo answers', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { params: { scope: 'openid profile email roles' } });
    const info = await oidc.fetchUserInfo(shop, tokens.access_token, fx.users.alice);
    assert.equal(info.preferred_username, 'alice');
    assert.equal(info.email, 'alice@example.com');
    assert.deepEqual(info.roles, ['customer']);
  });

  test('fail-login: unknown user and wrong password get the same answer', async () => {
    const answers: Array<[number, string]> = [];
    for (const username of ['alice', 'nobody-here']) {
      const browser = new Browser();
      const { url } = await authorizationUrl(shop);
      const page = await browser.follow(url.href, fx.issuer);
      const html = await page.res.text();
      const res = await post(browser, new URL(formAction(html, '/login'), fx.issuer).href, { csrf: formField(html, 'csrf'), username, password: 'Wrong-Password-123' });
      const body = await res.text();
      answers.push([res.status, /role="alert">([^<]*)</.exec(body)?.[1] ?? '']);
    }
    assert.equal(answers[0]![0], 401);
    assert.deepEqual(answers[0], answers[1]);
  });

  test('fail-csrf: a login form without the right token is refused', async () => {
    const browser = new Browser();
    const { url } = await authorizationUrl(shop);
    const page = await browser.follow(url.href, fx.issuer);
    const html = await page.res.text();
    const res = await post(browser, new URL(formAction(html, '/login'), fx.issuer).href, { csrf: 'forged', username: 'alice', password: PASSWORD });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  });

  test('fail-pkce-wrong-verifier: invalid_grant, and the code is unusable afterwards', async () => {
    const browser = new Browser();
    const started = await authorizationUrl(shop);
    const callback = await signIn(browser, fx.issuer, started.url);
    const code = callback.searchParams.get('code')!;
    const auth = basic('shop', fx.firstParty.secret);
    const since = await auditHead();
    const wrongVerifier = oidc.randomPKCECodeVerifier();
    const wrong = await tokenRequest(fx.issuer, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: wrongVerifier }, auth);
    assert.equal(wrong.status, 400);
    assert.equal((await wrong.json() as { error: string }).error, 'invalid_grant');
    const row = await lastAudit('token.refused', since);
    assert.equal(row.reason, 'invalid_grant');
    assert.equal(row.clientId, 'shop');
    assert.equal(row.data?.grantType, 'authorization_code');
    assert.doesNotMatch(JSON.stringify(row), new RegExp(`${code}|${wrongVerifier}|${fx.firstParty.secret}`));
    const right = await tokenRequest(fx.issuer, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: started.verifier }, auth);
    assert.equal(right.status, 400);
    assert.equal((await right.json() as { error: string }).error, 'invalid_grant');
  });

  test('fail-pkce-missing-verifier: invalid_grant', async () => {
    const started = await authorizationUrl(shop);
    const callback = await signIn(new Browser(), fx.issuer, started.url);
    const res = await tokenRequest(fx.issuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: CALLBACK }, basic('shop', fx.firstParty.secret));
    assert.equal(res.status, 400);
    const body = await res.json() as Record<string, unknown>;
    assert.equal(body.error, 'invalid_grant');
    assert.doesNotMatch(JSON.stringify(body), /\.js:\d+/);
  });

  test('fail-missing-redirect-uri: the single registered redirect URI is not assumed', async () => {
    const started = await authorizationUrl(shop);
    const callback = await signIn(new Browser(), fx.issuer, started.url);
    const res = await tokenRequest(fx.issuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: started.verifier }, basic('shop', fx.firstParty.secret));
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_request');
  });

  test('fail-code-replay: the second use fails and revokes what the first issued', async () => {
    const started = await authorizationUrl(shop, { scope: 'openid offline_access books:read', prompt: 'consent' });
    const callback = await signIn(new Browser(), fx.issuer, started.url);
    const tokens = await oidc.authorizationCodeGrant(shop, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
    assert.ok(tokens.refresh_token);
    const before = published.length;
    const since = await auditHead();
    const replay = await tokenRequest(fx.issuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: started.verifier }, basic('shop', fx.firstParty.secret));
    assert.equal(replay.status, 400);
    assert.equal((await replay.json() as { error: string }).error, 'invalid_grant');
    await assert.rejects(oidc.refreshTokenGrant(shop, tokens.refresh_token), (error: { error?: string }) => error.error === 'invalid_grant');
    const reused = await lastAudit('code.reused', since);
    assert.equal(reused.subject, fx.users.alice);
    assert.equal(reused.reason, 'reuse_detected');
    assert.equal(reused.clientId, 'shop');
    const refused = (await audit('token.refused')).filter((e) => e.seq > since);
    assert.equal(refused[0]?.reason, 'invalid_grant');
    assert.equal(refused[0]?.data?.grantType, 'authorization_code');
    const jti = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()).jti as string;
    const event = revokedSince(published, before)[0];
    assert.ok(event?.tokenIds.includes(jti));
  });

  test('fail-expired-code: invalid_grant', async () => {
    const started = await authorizationUrl(shop);
    const callback = await signIn(new Browser(), fx.issuer, started.url);
    const db = fx.svc.service.context.store.db;
    await db.updateTable('oidc_models').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('model', '=', 'AuthorizationCode').execute();
    const res = await tokenRequest(fx.issuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: started.verifier }, basic('shop', fx.firstParty.secret));
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_grant');
  });

  test('fail-disabled-user: refresh and userinfo fail once the user is disabled', async () => {
    const ctx = fx.svc.service.context;
    const carol = await ctx.users.create({ username: 'carol', email: 'carol@example.com', password: PASSWORD, roles: [] }, 'test');
    const { tokens } = await codeFlow(shop, fx.issuer, { username: 'carol', params: { scope: 'openid profile offline_access', prompt: 'consent' } });
    assert.ok(tokens.refresh_token);
    // Disable behind the service's back (no revocation): the protocol checks alone must refuse.
    await ctx.store.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', carol.id).execute();
    const since = await auditHead();
    await assert.rejects(oidc.refreshTokenGrant(shop, tokens.refresh_token), (error: { error?: string }) => error.error === 'invalid_grant');
    const row = await lastAudit('token.refused', since);
    assert.equal(row.reason, 'invalid_grant');
    assert.equal(row.data?.grantType, 'refresh_token');
    assert.equal(row.clientId, 'shop');
    assert.doesNotMatch(JSON.stringify(row), new RegExp(tokens.refresh_token));
    const info = await fetch(`${fx.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal(info.status, 401);
  });

  test('fail-locked: repeated failures lock the form with a retry time', async () => {
    let last: Response | undefined;
    for (let i = 0; i < 12 && last?.status !== 429; i++) {
      const browser = new Browser();
      const { url } = await authorizationUrl(shop);
      const page = await browser.follow(url.href, fx.issuer);
      const html = await page.res.text();
      last = await post(browser, new URL(formAction(html, '/login'), fx.issuer).href, { csrf: formField(html, 'csrf'), username: 'dave-does-not-exist', password: 'Wrong-Password-123' });
    }
    assert.equal(last?.status, 429);
    assert.ok(Number(last!.headers.get('retry-after')) >= 1);
    const html = await last!.text();
    assert.match(html, /Too many failed sign-in attempts/);
    assert.match(html, /Try again in (1 second|([2-9]|\d\d+) seconds|\d+ minutes)\./);
  });
});
