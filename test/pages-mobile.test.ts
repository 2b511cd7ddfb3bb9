/**
 * The pages a person sees, in a real Chromium at 375 px (a small phone): none is wider than the
 * screen — landing, sign-in, consent, signed-in, cancelled and error pages — and Cancel on the
 * sign-in page ends on a page that says so. The demo pages (examples/bookstore) are mounted on a
 * test service the way `npm start` mounts them.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { startService, type TestService } from './helpers/service.ts';
import { seedDemo } from '../examples/bookstore/seed.ts';
import { registerDemoPages } from '../examples/bookstore/demo-pages.ts';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Without Chromium the tests are skipped with the reason — except on CI, where .ci/run installs it.
const skip = existsSync(CHROMIUM) ? false : process.env.CI ? false : `${CHROMIUM} is not installed (apt-get install chromium)`;
const WIDTH = 375;
const PASSWORD = 'Velvet-Harbor-Quill-2291';

let svc: TestService;
let browser: Browser;

before(async () => {
  if (skip) return;
  svc = await startService({
    beforeListen: async (service) => {
      await seedDemo(service.context, { GATEHOUSE_DEMO_PASSWORD: PASSWORD });
      registerDemoPages(service.app, service.context);
    },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
after(async () => {
  await browser?.close();
  await svc?.close();
});

/** A fresh phone-sized browser context (no cookies: no single sign-on between tests). */
async function phone(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: WIDTH, height: 740 } });
  return context.newPage();
}

const pageWidth = (page: Page) => page.evaluate('document.documentElement.scrollWidth') as Promise<number>;

async function fits(page: Page, what: string): Promise<void> {
  const width = await pageWidth(page);
  assert.ok(width <= WIDTH, `${what} is ${width} px wide at a ${WIDTH} px viewport (${page.url()})`);
}

async function signIn(page: Page): Promise<void> {
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(PASSWORD);
  await Promise.all([page.waitForLoadState(), page.getByRole('button', { name: 'Sign in' }).click()]);
}

test('ok: the landing page fits a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(`${svc.url}/`);
  assert.match(await page.textContent('h1') ?? '', /Gatehouse Security Service/);
  await fits(page, 'the landing page');
});

test('ok: the sign-in page fits a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(`${svc.url}/demo/signin`);
  assert.equal(await page.getByLabel('Password').count(), 1);
  await fits(page, 'the sign-in page');
});

test('ok: the signed-in page (token claims) fits a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(`${svc.url}/demo/signin`);
  await signIn(page);
  assert.match(await page.textContent('h1') ?? '', /Signed in as alice/);
  await fits(page, 'the signed-in page');
});

test('ok: the consent page of a third-party app fits a 375 px screen', { skip }, async () => {
  const page = await phone();
  const config = await oidc.discovery(new URL(svc.url), 'reading-list', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const url = oidc.buildAuthorizationUrl(config, { redirect_uri: 'http://localhost:3001/callback', scope: 'openid profile email', code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()), code_challenge_method: 'S256', state: oidc.randomState() });
  await page.goto(url.href);
  await signIn(page);
  assert.match(await page.textContent('h1') ?? '', /Allow access\?/);
  await fits(page, 'the consent page');
});

test('ok: Cancel on the sign-in page ends on "You cancelled the sign-in", not a failure', { skip }, async () => {
  const page = await phone();
  await page.goto(`${svc.url}/demo/signin`);
  await Promise.all([page.waitForURL(/\/demo\/callback/), page.getByRole('button', { name: 'Cancel' }).click()]);
  assert.match(await page.textContent('h1') ?? '', /You cancelled the sign-in/);
  assert.doesNotMatch(await page.textContent('body') ?? '', /failed|access_denied/i);
  await fits(page, 'the cancelled page');
});

test('ok: the error pages (an expired sign-in, an unknown address) fit a 375 px screen', { skip }, async () => {
  const page = await phone();
  await page.goto(`${svc.url}/interaction/no-such-interaction`);
  assert.match(await page.textContent('h1') ?? '', /Sign-in expired/);
  await fits(page, 'the expired sign-in page');
  const missing = await page.goto(`${svc.url}/no/such/page/${'x'.repeat(120)}`);
  assert.equal(missing?.status(), 404);
  assert.match(await page.textContent('h1') ?? '', /No such resource/);
  await fits(page, 'the 404 page');
});
