/**
 * A person in Chromium: "Sign in with Corp IdP" on our sign-in page, the IdP's own sign-in form,
 * "Create a new account" on our first-sign-in page, and the client's redirect URI with a code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser } from 'playwright-core';
import { callbackServer, chromiumSkip, launchChromium } from './helpers/chromium.ts';
import * as oidc from 'openid-client';
import { rp, authorizationUrl, PASSWORD } from './oauth/helpers.ts';
import { startFederation, type FederationFixture } from './federation/helpers.ts';

const skip = chromiumSkip;

test('ok: chromium signs in through the external provider and creates an account', { skip }, async (t) => {
  let fx: FederationFixture | undefined;
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof callbackServer>> | undefined;
  t.after(async () => {
    await browser?.close();
    server?.close();
    await fx?.close();
  });
  server = await callbackServer();
  const callback = server.url;

  fx = await startFederation('sqlite', { type: 'oidc' });
  await fx.idpUser('olga', { roles: ['staff'] });
  const ctx = fx.ours.svc.service.context;
  const { secret } = await ctx.oauth.clients.create({ clientId: 'web', name: 'Web shop', firstParty: true, redirectUris: [callback], grantTypes: ['authorization_code'] }, 'test');
  const config = await rp(fx.ours.issuer, 'web', secret);
  const { url, verifier, state } = await authorizationUrl(config, { redirect_uri: callback, scope: 'openid' });

  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(url.href);
  await Promise.all([page.waitForURL((u) => u.origin === fx!.idpIssuer, { timeout: 10_000 }), page.getByRole('link', { name: 'Sign in with Corp IdP' }).click()]);
  await page.getByLabel('Username').fill('olga');
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForURL((u) => u.origin === fx!.ours.issuer, { timeout: 10_000 }), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  await page.getByRole('heading', { name: 'First sign-in with Corp IdP' }).waitFor({ timeout: 10_000 });
  await Promise.all([page.waitForURL((u) => u.href.startsWith(callback), { timeout: 10_000 }), page.getByRole('button', { name: 'Create a new account' }).click()]);
  const landed = new URL(page.url());
  assert.equal(landed.searchParams.get('state'), state);
  const tokens = await oidc.authorizationCodeGrant(config, landed, { pkceCodeVerifier: verifier, expectedState: state });
  const user = await ctx.users.findById(String(tokens.claims()?.sub));
  assert.equal(user?.username, 'olga');
  assert.deepEqual(user?.roles, ['staff']);
});
