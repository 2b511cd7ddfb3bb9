/**
 * Connected apps (`oauth.connectedApps`, and the admin API over it): the third-party apps a user
 * granted access are listed; disconnecting one revokes at once — its refresh token fails, its
 * access token is refused at a gateway within a second (tokens.revoked over the event stream) —
 * and is audited `consent.revoked`. A sign-out keeps connected apps.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startGateway, startRecordingUpstream, waitFor, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { authorizationUrl, codeFlow, rp, Browser, post, auditProbe, revokedSince } from './oauth/helpers.ts';
import { startThirdPartyFixture, openAuthorization, answerConsent, claimsOf, APP_SCOPE, type ThirdPartyFixture } from './oauth/third-party.ts';
import type { PublishedEvent } from '../src/events/types.ts';

const isInvalidGrant = (error: { error?: string }) => error.error === 'invalid_grant';

await forEachDialect('oauth connected apps', (dialect) => {
  let t: ThirdPartyFixture;
  let api: RecordingUpstream;
  let gw: GatewayFixture;
  const published: PublishedEvent[] = [];
  before(async () => {
    t = await startThirdPartyFixture(dialect);
    t.fx.svc.service.context.events.subscribe((event) => published.push(event));
    api = await startRecordingUpstream();
    // The fixture's service client (events:read) is the gateway's credential for the event stream.
    const auth = { svc: t.fx.svc, issuer: t.fx.issuer, audience: t.fx.api, gatewayClient: { clientId: 'orders-svc', secret: t.fx.service.secret } } as unknown as AuthFixture;
    gw = await startGateway(auth, {
      services: { api: [api.url] },
      routes: [
        { methods: ['GET'], path: '/api/orders', service: 'api' },
        { methods: ['POST'], path: '/api/orders', service: 'api', permissions: ['orders:create'] },
      ],
    });
  });
  after(async () => {
    await gw?.close();
    await api?.close();
    await t?.close();
  });

  /** alice connects book-club (consent page, Allow) and the app redeems the code. offline_access needs prompt=consent (OIDC Core §11). */
  async function connect(username = 'alice', browser = new Browser()) {
    const started = await authorizationUrl(t.app, { scope: APP_SCOPE, prompt: 'consent' });
    const page = await openAuthorization(browser, t.fx.issuer, started.url, username);
    const callback = page.res.status === 200 ? await answerConsent(browser, t.fx.issuer, page.html, 'allow') : new URL(page.url);
    const tokens = await oidc.authorizationCodeGrant(t.app, callback, { pkceCodeVerifier: started.verifier, expectedState: started.state });
    assert.ok(tokens.refresh_token, 'offline_access gives the app a refresh token');
    return { tokens, browser };
  }

  const apps = () => t.fx.svc.service.context.oauth.connectedApps;
  const orders = (token: string, method = 'GET') => fetch(`${gw.url}/api/orders`, { method, headers: { authorization: `Bearer ${token}` } });

  test('ok: list names the connected third-party app with what was granted; first-party apps are not listed', async () => {
    const before = Math.floor(Date.now() / 1000);
    await connect();
    await codeFlow(await rp(t.fx.issuer, 'shop', t.fx.firstParty.secret), t.fx.issuer);
    const listed = await apps().list(t.fx.users.alice);
    assert.equal(listed.length, 1);
    assert.equal(listed[0]!.clientId, 'book-club');
    assert.equal(listed[0]!.clientName, 'Book Club');
    assert.deepEqual([...listed[0]!.scopes].sort(), ['offline_access', 'openid', 'orders:read', 'profile']);
    assert.ok(listed[0]!.grantedAt >= before - 1 && listed[0]!.grantedAt <= Math.floor(Date.now() / 1000));
    assert.deepEqual(await apps().list(t.fx.users.bob), []);
  });

  test('ok: disconnect revokes at once: refresh token invalid_grant, access token refused at the gateway within a second, audited', async () => {
    const { tokens } = await connect();
    assert.equal((await orders(tokens.access_token)).status, 200);
    const jti = String(claimsOf(tokens.access_token).jti);
    const from = published.length;
    const since = await auditProbe(t.fx).head();
    assert.equal(await apps().disconnect(t.fx.users.alice, 'book-club', `user:${t.fx.users.alice}`), true);
    const disconnectedAt = Date.now();
    await waitFor(async () => (await orders(tokens.access_token)).status === 401, 2000, 'the disconnected app\'s token still passed the gateway after 2 s');
    assert.ok(Date.now() - disconnectedAt < 2000);
    await assert.rejects(oidc.refreshTokenGrant(t.app, tokens.refresh_token!), isInvalidGrant);
    const event = revokedSince(published, from).find((e) => e.reason === 'app_disconnected');
    assert.ok(event?.tokenIds.includes(jti), 'tokens.revoked names the app\'s access token');
    assert.equal(event?.subject, t.fx.users.alice);
    const row = await auditProbe(t.fx).last('consent.revoked', since);
    assert.equal(row.subject, t.fx.users.alice);
    assert.equal(row.clientId, 'book-club');
    assert.equal(row.actor, `user:${t.fx.users.alice}`);
    assert.ok(Number(row.data?.grants) >= 1);
    assert.deepEqual(await apps().list(t.fx.users.alice), []);
    // Connecting again asks again.
    const started = await authorizationUrl(t.app, { scope: APP_SCOPE });
    assert.equal((await openAuthorization(new Browser(), t.fx.issuer, started.url)).res.status, 200);
  });

  test('fail-not-connected: disconnecting an app that is not connected changes nothing and audits nothing', async () => {
    const since = await auditProbe(t.fx).head();
    assert.equal(await apps().disconnect(t.fx.users.bob, 'book-club', 'user:bob'), false);
    assert.equal(await apps().disconnect(t.fx.users.alice, 'shop', 'user:alice'), false);
    assert.deepEqual((await t.fx.svc.service.context.audit.list({ event: 'consent.revoked' })).filter((e) => e.seq > since), []);
  });

  test('ok: a sign-out keeps the connected app: its refresh token goes on working', async () => {
    const { tokens, browser } = await connect();
    const shop = await rp(t.fx.issuer, 'shop', t.fx.firstParty.secret);
    const own = await codeFlow(shop, t.fx.issuer, { browser });
    const page = await browser.fetch(oidc.buildEndSessionUrl(shop, { id_token_hint: own.tokens.id_token! }).href);
    const html = await page.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)![1]!;
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    assert.equal((await post(browser, new URL(action, t.fx.issuer).href, { xsrf, logout: 'yes' })).status, 303);
    const refreshed = await oidc.refreshTokenGrant(t.app, tokens.refresh_token!);
    assert.equal(claimsOf(refreshed.access_token).scope_bound, true);
    assert.equal((await apps().list(t.fx.users.alice)).length, 1);
    await apps().disconnect(t.fx.users.alice, 'book-club', 'test');
  });

  test('ok: the admin API lists a user\'s connected apps and disconnects one (then 404)', async () => {
    const { tokens } = await connect();
    const shop = await rp(t.fx.issuer, 'shop', t.fx.firstParty.secret);
    const admin = (await codeFlow(shop, t.fx.issuer, { username: 'bob', params: { scope: 'openid admin', resource: t.fx.issuer } })).tokens.access_token;
    const call = (method: string, path: string) => fetch(`${t.fx.issuer}/admin/api${path}`, { method, headers: { authorization: `Bearer ${admin}` } });
    const listed = await call('GET', '/users/alice/apps');
    assert.equal(listed.status, 200);
    const body = await listed.json() as { apps: Array<{ clientId: string; clientName: string; scopes: string[]; grantedAt: number }> };
    assert.deepEqual(body.apps.map((a) => a.clientId), ['book-club']);
    const since = await auditProbe(t.fx).head();
    assert.equal((await call('DELETE', '/users/alice/apps/book-club')).status, 204);
    assert.equal((await auditProbe(t.fx).last('consent.revoked', since)).actor, `user:${t.fx.users.bob}`);
    await assert.rejects(oidc.refreshTokenGrant(t.app, tokens.refresh_token!), isInvalidGrant);
    const again = await call('DELETE', '/users/alice/apps/book-club');
    assert.equal(again.status, 404);
    assert.equal((await again.json() as { code: string }).code, 'not_found');
  });

  test('fail-scope-bound: the app\'s orders:read token cannot place an order through the gateway (orders:create needs a scope it lacks)', async () => {
    const { tokens } = await connect();
    assert.equal((await orders(tokens.access_token)).status, 200);
    const before = api.requests.length;
    assert.equal((await orders(tokens.access_token, 'POST')).status, 403);
    assert.equal(api.requests.length, before, 'never forwarded');
    await apps().disconnect(t.fx.users.alice, 'book-club', 'test');
  });
});
