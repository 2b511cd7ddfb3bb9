/**
 * The Security Service's pages in a real Chromium at 375 px (a small phone): the sign-in,
 * consent and error pages are no wider than the screen. (The bookstore's own pages — the landing
 * and signed-in pages of `npm start` — are measured the same way in test/bookstore-browser.test.ts.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { chromiumSkip, launchChromium } from './helpers/chromium.ts';
import { startOAuthService, rp, authorizationUrl, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';

// Without Chromium the tests are skipped with the reason — except on CI, where .ci/run installs it.
const skip = chromiumSkip;
const WIDTH = 375;

let fx: OAuthFixture;
let browser: Browser;

before(async () => {
  if (skip) return;
  fx = await startOAuthService('sqlite');
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await fx?.close();
});

/** A fresh phone-sized browser context (no cookies: no single sign-on between tests). */
async function phone(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: WIDTH, height: 740 } });
  return context.newPage();
}

async function fits(page: Page, what: string): Promise<void> {
  const width = await page.evaluate('document.documentElement.scrollWidth') as number;
  assert.ok(width <= WIDTH, `${what} is ${width} px wide at a ${WIDTH} px viewport (${page.url()})`);
}

/** The authorization URL of `clientId` (first-party `shop`, third-party `partner`), PKCE included. */
async function authorize(clientId: 'shop' | 'partner'): Promise<string> {
  const config = await rp(fx.issuer, clientId, clientId === 'shop' ? fx.firstParty.secret : fx.thirdParty.secret);
  return (await authorizationUrl(config, { scope: 'openid profile email' })).url.href;
}

test('ok: the sign-in page fits a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(await authorize('shop'));
  assert.equal(await page.getByLabel('Password').count(), 1);
  await fits(page, 'the sign-in page');
});

test('ok: the consent page of a third-party app fits a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(await authorize('partner'));
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in' }).click()]);
  assert.match(await page.textContent('h1') ?? '', /Allow access\?/);
  await fits(page, 'the consent page');
});

test('ok: the error pages (an expired sign-in, an unknown address) fit a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(`${fx.issuer}/interaction/no-such-interaction`);
  assert.match(await page.textContent('h1') ?? '', /Sign-in expired/);
  await fits(page, 'the expired sign-in page');
  const missing = await page.goto(`${fx.issuer}/no/such/page/${'x'.repeat(120)}`);
  assert.equal(missing?.status(), 404);
  assert.match(await page.textContent('h1') ?? '', /No such resource/);
  await fits(page, 'the 404 page');
});
