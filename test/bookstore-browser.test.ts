/**
 * A person in a real browser (Chromium via playwright-core) uses the bookstore of `npm start`:
 * opens the page at `/`, signs in through the gateway, orders a book, sees the order, is refused
 * the staff page as alice, and signs out — on a 375 px wide screen, which nothing overflows.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { chromiumSkip, launchChromium } from './helpers/chromium.ts';
import { removeDataDir, startBookstore, type Bookstore } from './helpers/bookstore.ts';


// Without Chromium the test is skipped with the reason — except on CI, where .ci/run installs it and it must run.
const skip = chromiumSkip;

let demo: Bookstore | undefined;
let browser: Browser | undefined;
after(async () => {
  await browser?.close();
  await demo?.stop();
  if (demo) removeDataDir(demo.dataDir);
});

async function fitsWidth(page: Page): Promise<void> {
  const width = await page.evaluate('document.documentElement.scrollWidth') as number;
  assert.ok(width <= 375, `${page.url()} is ${width} px wide on a 375 px screen`);
}

test('ok: alice signs in on the page at /, orders a book, sees it, is refused the staff page, signs out', { skip }, async () => {
  demo = await startBookstore();
  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 375, height: 740 } });

  await page.goto(`${demo.origin}/`);
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  await fitsWidth(page);
  await page.getByRole('link', { name: 'Sign in' }).click();

  // The Security Service's sign-in form, reached through the gateway.
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(demo.password);
  await fitsWidth(page);
  await Promise.all([page.waitForURL(`${demo.origin}/`, { timeout: 15_000 }), page.getByRole('button', { name: 'Sign in' }).click()]);
  await page.getByText('alice (customer)').waitFor();

  const first = page.locator('#books li').first();
  const title = (await first.locator('.title').textContent())!;
  await first.getByRole('button', { name: 'Order one' }).click();
  await page.locator('#notice').filter({ hasText: 'Ordered' }).waitFor();
  await page.locator('#orders li').filter({ hasText: title }).waitFor();
  await fitsWidth(page);

  const refused = await page.goto(`${demo.origin}/staff`);
  assert.equal(refused?.status(), 403);
  assert.match(await page.textContent('h1') ?? '', /not allowed/i);
  await fitsWidth(page);

  await page.goto(`${demo.origin}/`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  // The Security Service asks once more before it ends the single sign-on session.
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await page.waitForURL(`${demo.origin}/`, { timeout: 15_000 });
  await page.getByRole('link', { name: 'Sign in' }).waitFor();
  // Signed out for real: the API no longer knows her.
  assert.equal((await page.request.get(`${demo.origin}/api/me`)).status(), 401);
});

test('ok: bob (staff) opens the staff page and refunds an order', { skip }, async () => {
  assert.ok(demo && browser, 'the first test started the bookstore');
  const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
  await page.goto(`${demo.origin}/login?return_to=%2Fstaff`);
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(demo.password);
  await Promise.all([page.waitForURL(`${demo.origin}/staff`, { timeout: 15_000 }), page.getByRole('button', { name: 'Sign in' }).click()]);
  const order = page.locator('#orders li').filter({ hasText: 'alice' }).first();
  await order.getByRole('button', { name: 'Refund' }).click();
  await page.locator('#notice').filter({ hasText: 'refunded' }).waitFor();
  await fitsWidth(page);
});
