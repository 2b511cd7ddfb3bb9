/** A real browser signs in through the login form and lands on the client's redirect URI with a code. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser } from 'playwright-core';
import { callbackServer, chromiumSkip, launchChromium } from './helpers/chromium.ts';
import * as oidc from 'openid-client';
import { startOAuthService, rp, authorizationUrl, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';


// Without Chromium the test is skipped with the reason — except on CI, where .ci/run installs it and it must run.
const skip = chromiumSkip;

test('ok: chromium logs in through the form and reaches the redirect URI with a code', { skip }, async (t) => {
  let fx: OAuthFixture | undefined;
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof callbackServer>> | undefined;
  t.after(async () => {
    await browser?.close();
    server?.close();
    await fx?.close();
  });
  server = await callbackServer();
  const callback = server.url;

  fx = await startOAuthService('sqlite');
  const { secret } = await fx.svc.service.context.oauth.clients.create({ clientId: 'web', name: 'Web shop', firstParty: true, redirectUris: [callback], grantTypes: ['authorization_code'] }, 'test');
  const config = await rp(fx.issuer, 'web', secret);
  const { url, verifier, state } = await authorizationUrl(config, { redirect_uri: callback, scope: 'openid books:read' });

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url.href);
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback), { timeout: 10_000 }), page.getByRole('button', { name: 'Sign in' }).click()]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('state'), state);
  assert.ok(landed.searchParams.get('code'));
  assert.match(await page.textContent('body') ?? '', /callback reached/);
  const tokens = await oidc.authorizationCodeGrant(config, landed, { pkceCodeVerifier: verifier, expectedState: state });
  assert.ok(tokens.access_token);
});
