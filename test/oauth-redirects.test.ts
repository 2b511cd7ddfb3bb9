/**
 * Redirect URIs match exactly: near misses of a registered URI are refused with an error page at
 * the server (400, HTML), never a redirect — a redirect would hand codes or errors to whoever
 * controls the near-miss address.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startOAuthService, rp, authorizationUrl, Browser, CALLBACK, type OAuthFixture } from './oauth/helpers.ts';

const REGISTERED = 'https://app.example.com/cb';

await forEachDialect('oauth redirect uris', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let app: oidc.Configuration;

  before(async () => {
    fx = await startOAuthService(dialect);
    shop = await rp(fx.issuer, fx.firstParty.client.clientId, fx.firstParty.secret);
    const created = await fx.svc.service.context.oauth.clients.create({ clientId: 'web-app', name: 'Web app', firstParty: true, redirectUris: [REGISTERED], grantTypes: ['authorization_code'] }, 'test');
    app = await rp(fx.issuer, created.client.clientId, created.secret);
  });
  after(async () => { await fx.close(); });

  const assertRefusedAtServer = async (config: oidc.Configuration, redirectUri: string) => {
    const { url } = await authorizationUrl(config, { redirect_uri: redirectUri });
    const res = await new Browser().fetch(url.href);
    const body = await res.text();
    assert.equal(res.status, 400, `${redirectUri}: ${res.status}`);
    assert.equal(res.headers.get('location'), null, `${redirectUri} must not be redirected to`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(body, /redirect_uri/);
  };

  test('ok: the registered URI itself is accepted (the login page is shown)', async () => {
    const { url } = await authorizationUrl(shop);
    const step = await new Browser().follow(url.href, fx.issuer);
    assert.equal(step.res.status, 200);
    assert.match(await step.res.text(), /name="password"/);
  });

  for (const [reason, uri] of [
    ['trailing-slash', `${CALLBACK}/`],
    ['extra-query', `${CALLBACK}?x=1`],
    ['other-port', CALLBACK.replace(':9/', ':10/')],
    ['upper-case-path', CALLBACK.replace('/callback', '/CALLBACK')],
    ['localhost-for-127.0.0.1', CALLBACK.replace('127.0.0.1', 'localhost')],
  ] as const) {
    test(`fail-${reason}: ${uri} → 400 error page, no redirect`, async () => {
      await assertRefusedAtServer(shop, uri);
    });
  }

  for (const [reason, uri] of [
    ['upper-case-host', 'https://APP.example.com/cb'],
    ['upper-case-path', 'https://app.example.com/CB'],
    ['other-scheme', 'http://app.example.com/cb'],
    ['explicit-port', 'https://app.example.com:8443/cb'],
    ['fragment', 'https://app.example.com/cb#x'],
  ] as const) {
    test(`fail-${reason}: ${uri} (registered ${REGISTERED}) → 400 error page, no redirect`, async () => {
      await assertRefusedAtServer(app, uri);
    });
  }
});
