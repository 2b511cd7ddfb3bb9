/**
 * The device authorization grant (RFC 8628) end to end: openid-client as the device, the person
 * through the real /device pages (fetch with cookies), sign-in and consent.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { forEachDialect } from './helpers/dialects.ts';
import type { AuditEvent } from '../src/events/audit.ts';
import { DEVICE_CODE_GRANT } from '../src/oauth/index.ts';
import { startOAuthService, rp, Browser, formField, post, auditProbe, type OAuthFixture } from './oauth/helpers.ts';
import { approveDevice, enterUserCode } from './oauth/device.ts';

/** A public, third-party device client (the demo CLI's shape) and a first-party one. */
async function addDeviceClients(fx: OAuthFixture): Promise<void> {
  const clients = fx.svc.service.context.oauth.clients;
  await clients.create({ clientId: 'tv-app', name: 'TV App', firstParty: false, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT, 'refresh_token'], scope: 'openid offline_access books:read' }, 'test');
  // Only the consent-denial test uses it: consent given once is remembered, so no other test may grant it.
  await clients.create({ clientId: 'radio-app', name: 'Radio App', firstParty: false, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT], scope: 'openid books:read' }, 'test');
  await clients.create({ clientId: 'own-cli', name: 'Own CLI', firstParty: true, public: true, redirectUris: [], grantTypes: [DEVICE_CODE_GRANT], scope: 'openid books:read' }, 'test');
}

await forEachDialect('oauth device flow', (dialect) => {
  let fx: OAuthFixture;
  let tv: oidc.Configuration;
  let own: oidc.Configuration;
  before(async () => {
    fx = await startOAuthService(dialect, { config: { deviceFlow: { interval: 1 } } });
    await addDeviceClients(fx);
    tv = await rp(fx.issuer, 'tv-app');
    own = await rp(fx.issuer, 'own-cli');
  });
  after(async () => { await fx.close(); });
  const lastAudit = (event: AuditEvent, since: number) => auditProbe(fx).last(event, since);
  const auditHead = () => auditProbe(fx).head();

  test('ok: discovery advertises the device authorization endpoint and grant', async () => {
    const meta = tv.serverMetadata();
    assert.equal(meta.device_authorization_endpoint, `${fx.issuer}/oauth2/device_authorization`);
    assert.ok(meta.grant_types_supported?.includes(DEVICE_CODE_GRANT));
  });

  test('ok: the device authorization answer carries the short verification URI, a masked user code and the interval', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid books:read' });
    assert.equal(started.verification_uri, `${fx.issuer}/device`);
    assert.match(started.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    assert.equal(started.verification_uri_complete, `${fx.issuer}/device?user_code=${started.user_code}`);
    assert.equal(started.interval, 1);
    assert.equal(started.expires_in, 600);
  });

  test('ok: the person enters the code, confirms, signs in and consents → the device gets tokens', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid offline_access books:read' });
    const head = await auditHead();
    const polling = oidc.pollDeviceAuthorizationGrant(tv, started);
    const done = await approveDevice(new Browser(), fx.issuer, started.user_code);
    assert.equal(done.status, 200);
    assert.match(done.html, /Device connected/);
    assert.match(done.html, /TV App/);
    const tokens = await polling;
    const { payload } = await jwtVerify(tokens.access_token, createRemoteJWKSet(new URL(`${fx.issuer}/.well-known/jwks.json`)), { issuer: fx.issuer, audience: fx.api });
    assert.equal(payload.sub, fx.users.alice);
    assert.equal(payload.client_id, 'tv-app');
    assert.equal(payload.scope, 'books:read');
    assert.equal(payload.scope_bound, true, 'a third-party device app\'s token is scope-bound');
    assert.equal(tokens.claims()?.sub, fx.users.alice);
    assert.equal(typeof tokens.refresh_token, 'string', 'offline_access gives the device a refresh token');
    const authorized = await lastAudit('device.authorized', head);
    assert.equal(authorized.subject, fx.users.alice);
    assert.equal(authorized.clientId, 'tv-app');
    assert.deepEqual(authorized.data?.scopes, ['openid', 'offline_access', 'books:read']);
    const issued = await lastAudit('token.issued', head);
    assert.equal(issued.data?.grantType, DEVICE_CODE_GRANT);
    assert.equal(issued.data?.jti, payload.jti);
    const refreshed = await oidc.refreshTokenGrant(tv, tokens.refresh_token!);
    assert.equal(typeof refreshed.access_token, 'string');
  });

  test('ok: a third-party device app is a connected app; disconnecting it ends the device\'s refresh token', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid offline_access books:read' });
    const polling = oidc.pollDeviceAuthorizationGrant(tv, started);
    await approveDevice(new Browser(), fx.issuer, started.user_code, { username: 'bob' });
    const tokens = await polling;
    const apps = fx.svc.service.context.oauth.connectedApps;
    assert.ok((await apps.list(fx.users.bob)).some((app) => app.clientId === 'tv-app'));
    assert.equal(await apps.disconnect(fx.users.bob, 'tv-app', `user:${fx.users.bob}`), true);
    await assert.rejects(oidc.refreshTokenGrant(tv, tokens.refresh_token!), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
  });

  test('ok: the confirm page names the app, shows the code and what it asks, and is frame-protected', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid offline_access books:read' });
    const confirm = await enterUserCode(new Browser(), fx.issuer, started.user_code.toLowerCase().replace('-', ' '));
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, /<strong>TV App<\/strong> asks to sign in/);
    assert.ok(confirm.html.includes(`<code>${started.user_code}</code>`), 'the code as the device shows it');
    // The consent page's words (built-ins, and resources[].descriptions when configured), with each scope.
    assert.match(confirm.html, /Keep access while you are not using it <code class="scope">offline_access<\/code>/);
    assert.match(confirm.html, /<code class="scope">books:read<\/code>/);
    assert.equal(confirm.headers.get('x-frame-options'), 'DENY');
    assert.match(confirm.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.doesNotMatch(confirm.html, /<script/);
    assert.doesNotMatch(confirm.html, /will act as/, 'nobody is signed in in this browser');
  });

  test('ok: a first-party device app skips the consent page', async () => {
    const started = await oidc.initiateDeviceAuthorization(own, { scope: 'openid books:read' });
    const polling = oidc.pollDeviceAuthorizationGrant(own, started);
    const done = await approveDevice(new Browser(), fx.issuer, started.user_code);
    assert.match(done.html, /Device connected/);
    const tokens = await polling;
    assert.equal(tokens.claims()?.sub, fx.users.alice);
  });

  test('ok: with a live session the confirm page names the account, and no sign-in follows', async () => {
    const browser = new Browser();
    const first = await oidc.initiateDeviceAuthorization(own, { scope: 'openid' });
    const polling = oidc.pollDeviceAuthorizationGrant(own, first);
    await approveDevice(browser, fx.issuer, first.user_code);
    await polling;
    const second = await oidc.initiateDeviceAuthorization(own, { scope: 'openid' });
    const confirm = await enterUserCode(browser, fx.issuer, second.user_code);
    assert.match(confirm.html, /The device will act as <strong>alice<\/strong>/);
    const done = await approveDevice(browser, fx.issuer, second.user_code, { password: 'not-asked-for' });
    assert.match(done.html, /Device connected/);
  });

  test('ok: the complete verification URI opens the input page with the code filled in (no script)', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const browser = new Browser();
    const res = await browser.fetch(started.verification_uri_complete!);
    const html = await res.text();
    assert.equal(res.status, 200);
    assert.equal(formField(html, 'user_code'), started.user_code);
    assert.doesNotMatch(html, /<script/);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const confirm = await post(browser, `${fx.issuer}/device`, { xsrf: formField(html, 'xsrf'), user_code: formField(html, 'user_code') });
    assert.match(await confirm.text(), /Is this your device\?/);
  });

  test('fail-slow-down: a poll sooner than the interval is answered slow_down; the pending poll is not audited', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const poll = () => fetch(`${fx.issuer}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: DEVICE_CODE_GRANT, device_code: started.device_code, client_id: 'tv-app' }).toString() });
    const head = await auditHead();
    const first = await poll();
    assert.equal(first.status, 400);
    assert.equal(((await first.json()) as { error: string }).error, 'authorization_pending');
    const second = await poll();
    assert.equal(second.status, 400);
    assert.equal(((await second.json()) as { error: string }).error, 'slow_down');
    const refused = await fx.svc.service.context.audit.list({ event: 'token.refused', since: 0 });
    const mine = refused.filter((row) => row.seq > head);
    assert.deepEqual(mine.map((row) => row.reason), ['slow_down'], 'one row for the fast poll, none for the pending one');
    // The interval is now 1 + 5 s: a poll after the old interval is still too fast.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal(((await (await poll()).json()) as { error: string }).error, 'slow_down');
  });

  test('fail-denied-at-confirm: the person presses Deny → the device gets access_denied', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const head = await auditHead();
    const denied = await approveDevice(new Browser(), fx.issuer, started.user_code, { denyAtConfirm: true });
    assert.equal(denied.status, 200);
    assert.match(denied.html, /Request denied/);
    await assert.rejects(oidc.pollDeviceAuthorizationGrant(tv, started), (error: oidc.ResponseBodyError) => error.error === 'access_denied');
    const row = await lastAudit('device.denied', head);
    assert.equal(row.clientId, 'tv-app');
    assert.equal(row.reason, 'user_denied');
  });

  test('fail-denied-at-consent: the person signs in, then denies the app → access_denied', async () => {
    const radio = await rp(fx.issuer, 'radio-app');
    const started = await oidc.initiateDeviceAuthorization(radio, { scope: 'openid books:read' });
    const head = await auditHead();
    const denied = await approveDevice(new Browser(), fx.issuer, started.user_code, { denyAtConsent: true });
    assert.match(denied.html, /Request denied/);
    await assert.rejects(oidc.pollDeviceAuthorizationGrant(radio, started), (error: oidc.ResponseBodyError) => error.error === 'access_denied');
    const row = await lastAudit('device.denied', head);
    assert.equal(row.subject, fx.users.alice);
    assert.equal(row.clientId, 'radio-app');
    assert.equal((await lastAudit('consent.denied', head)).clientId, 'radio-app');
  });

  test('fail-wrong-user-code: a wrong code answers the input page again, saying nothing about codes', async () => {
    const head = await auditHead();
    const wrong = await enterUserCode(new Browser(), fx.issuer, 'BCDF-GHJK');
    assert.equal(wrong.status, 400);
    assert.match(wrong.html, /not valid or has expired/);
    assert.match(wrong.html, /role="alert"/);
    assert.match(wrong.html, /<label for="user_code">/);
    const row = await lastAudit('user_code.refused', head);
    assert.equal(row.reason, 'not_found');
    assert.ok(!JSON.stringify(row).includes('BCDF'), 'the audit row does not carry the code');
  });

  test('fail-code-reused: a used user code is refused like a wrong one; the used device code is invalid_grant', async () => {
    const started = await oidc.initiateDeviceAuthorization(own, { scope: 'openid' });
    const polling = oidc.pollDeviceAuthorizationGrant(own, started);
    await approveDevice(new Browser(), fx.issuer, started.user_code);
    await polling;
    const again = await enterUserCode(new Browser(), fx.issuer, started.user_code);
    assert.equal(again.status, 400);
    assert.match(again.html, /not valid or has expired/);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await assert.rejects(oidc.pollDeviceAuthorizationGrant(own, started), (error: oidc.ResponseBodyError) => error.error === 'invalid_grant');
  });

  test('fail-csrf: a code posted without the page\'s token is refused and nothing is looked up', async () => {
    const started = await oidc.initiateDeviceAuthorization(tv, { scope: 'openid' });
    const browser = new Browser();
    await browser.fetch(`${fx.issuer}/device`);
    const res = await post(browser, `${fx.issuer}/device`, { xsrf: 'forged', user_code: started.user_code });
    assert.equal(res.status, 400);
    const html = await res.text();
    assert.match(html, /This form expired/);
    assert.doesNotMatch(html, /Is this your device/);
    // The code is still usable from a real form.
    const confirm = await enterUserCode(browser, fx.issuer, started.user_code);
    assert.match(confirm.html, /Is this your device\?/);
    assert.ok(formField(confirm.html, 'xsrf'));
  });

  test('fail-unauthorized-client: a client registered without the device grant cannot start one', async () => {
    const shop = await rp(fx.issuer, 'shop', fx.firstParty.secret);
    const head = await auditHead();
    await assert.rejects(oidc.initiateDeviceAuthorization(shop, { scope: 'openid' }), (error: oidc.ResponseBodyError) => error.error === 'unauthorized_client');
    const row = await lastAudit('authorization.refused', head);
    assert.equal(row.clientId, 'shop');
    assert.equal(row.reason, 'unauthorized_client');
  });
});
