/**
 * Book Club, the bookstore demo's third-party app, in a real browser (Chromium via
 * playwright-core) against `npm start`: alice orders a book, connects Book Club, reads on the
 * consent page what it asks for, allows it, and sees her order on Book Club's page — read through
 * the gateway with a scope-bound `orders:read` token, which cannot place an order (403). An
 * administrator disconnecting the app (admin API) cuts it off at once. Over plain HTTP: a user who
 * denies leaves Book Club with nothing; Book Club refuses cross-site posts and stray callbacks.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { type Browser, type Page } from 'playwright-core';
import { chromiumSkip, launchChromium } from './helpers/chromium.ts';
import { removeDataDir, signInThroughGateway, startBookstore, type Bookstore } from './helpers/bookstore.ts';
import { runCli } from './helpers/cli.ts';
import { Browser as CookieBrowser, formAction, formField, post } from './oauth/helpers.ts';
import { waitFor } from './helpers/gateway.ts';

const skip = chromiumSkip;

let demo: Bookstore | undefined;
let browser: Browser | undefined;
before(async () => { demo = await startBookstore(); });
after(async () => {
  await browser?.close();
  await demo?.stop();
  if (demo) removeDataDir(demo.dataDir);
});

/** An admin API token: a client_credentials client with the admin role, added with the CLI as an operator would. */
async function adminToken(store: Bookstore): Promise<string> {
  const added = runCli(['--config', store.configPath, 'client', 'add', 'Ops', '--id', 'ops', '--grant', 'client_credentials', '--scope', 'admin', '--role', 'admin', '--json'], { dataDir: store.dataDir });
  assert.equal(added.code, 0, added.stderr);
  const { secret } = JSON.parse(added.stdout) as { secret: string };
  const res = await fetch(`${store.origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`ops:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'admin', resource: store.origin }).toString(),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { access_token: string }).access_token;
}

async function ordersShown(page: Page): Promise<string> {
  return (await page.locator('#orders').textContent()) ?? '';
}

test('ok: alice connects Book Club, consents to "Read your orders", and Book Club shows her order read through the gateway', { skip }, async () => {
  assert.ok(demo);
  assert.match(demo.output(), /book club\s+http:\/\/127\.0\.0\.1:\d+/);
  // alice has an order to show.
  const { browser: jar } = await signInThroughGateway(demo.origin, 'alice', demo.password);
  const placed = await jar.fetch(`${demo.origin}/api/orders`, { method: 'POST', headers: { 'content-type': 'application/json', origin: demo.origin }, body: JSON.stringify({ items: [{ bookId: '1', quantity: 2 }] }) });
  assert.equal(placed.status, 201);
  const title = ((await placed.json()) as { items: Array<{ title: string }> }).items[0]!.title;

  browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
  await page.goto(`${demo.bookClub}/`);
  await page.getByRole('button', { name: 'Connect your bookstore account' }).click();

  // The bookstore's sign-in, then its consent page: the app by name, its scopes in words.
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(demo.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
  assert.match(await page.textContent('main') ?? '', /Book Club asks to access your account alice/);
  const granted = page.getByRole('list', { name: 'Book Club will be able to' });
  assert.deepEqual((await granted.locator('li').allTextContents()).map((line) => line.trim()), [
    'Know who you are (your user id) openid',
    'See your username profile',
    'Read your orders orders:read',
  ]);
  // The focus starts on the decision.
  assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Allow');
  await Promise.all([page.waitForURL(`${demo.bookClub}/`, { timeout: 15_000 }), page.getByRole('button', { name: 'Allow' }).click()]);

  await page.getByText('Connected as alice').waitFor();
  assert.match(await ordersShown(page), new RegExp(`2 × ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));

  // It can do nothing else: an order placed with its token is refused.
  await page.getByRole('button', { name: 'Try to place an order for you' }).click();
  await page.locator('#attempt').filter({ hasText: 'refused' }).waitFor();
  assert.match(await page.textContent('#attempt') ?? '', /\(403\)/);

  // Sign out of Book Club, connect again: the grant is remembered, no consent page this time.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Connect your bookstore account' }).click();
  await page.getByText('Connected as alice').waitFor({ timeout: 15_000 });
});

test('ok: an administrator disconnects Book Club from alice (admin API): its token is refused at once', { skip }, async () => {
  assert.ok(demo && browser, 'the first test opened Chromium');
  const admin = await adminToken(demo);
  const call = (method: string, path: string) => fetch(`${demo!.origin}/admin/api${path}`, { method, headers: { authorization: `Bearer ${admin}` } });
  const listed = (await (await call('GET', '/users/alice/apps')).json()) as { apps: Array<{ clientId: string; scopes: string[] }> };
  assert.deepEqual(listed.apps.map((a) => a.clientId), ['book-club']);
  assert.ok(listed.apps[0]!.scopes.includes('orders:read'));
  const page = browser.contexts()[0]!.pages()[0]!;
  await page.reload();
  await page.getByText('Connected as alice').waitFor();
  assert.equal((await call('DELETE', '/users/alice/apps/book-club')).status, 204);
  const disconnectedAt = Date.now();
  await waitFor(async () => {
    await page.reload();
    return /refused: 401/.test(await page.textContent('main') ?? '');
  }, 3000, 'Book Club still read the orders after the disconnect');
  assert.ok(Date.now() - disconnectedAt < 3000);
});

test('fail-deny: dave denies Book Club on the consent page: it says nothing was shared and holds no token', async () => {
  assert.ok(demo);
  const jar = new CookieBrowser();
  const connect = await jar.fetch(`${demo.bookClub}/connect`, { method: 'POST' });
  assert.equal(connect.status, 303);
  const login = await jar.follow(connect.headers.get('location')!, demo.origin);
  const loginHtml = await login.res.text();
  const signedIn = await post(jar, new URL(formAction(loginHtml, '/login'), login.url).href, { csrf: formField(loginHtml, 'csrf'), username: 'dave', password: demo.password });
  const consent = await jar.follow(new URL(signedIn.headers.get('location')!, login.url).href, demo.origin);
  const consentHtml = await consent.res.text();
  assert.match(consentHtml, /Read your orders/);
  const denied = await post(jar, new URL(formAction(consentHtml, '/abort'), consent.url).href, { csrf: formField(consentHtml, 'csrf') });
  const back = await jar.follow(new URL(denied.headers.get('location')!, consent.url).href, demo.origin);
  assert.equal(new URL(back.url).origin, demo.bookClub);
  assert.equal(new URL(back.url).searchParams.get('error'), 'access_denied');
  const page = await jar.fetch(back.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /You did not allow Book Club to read your orders\. Nothing was shared\./);
  const home = await jar.fetch(`${demo.bookClub}/`);
  assert.match(await home.text(), /Connect your bookstore account/);
});

test('fail-cross-site: Book Club refuses a form posted from another origin, and a callback it did not start', async () => {
  assert.ok(demo);
  const forged = await fetch(`${demo.bookClub}/connect`, { method: 'POST', redirect: 'manual', headers: { origin: 'https://evil.example' } });
  assert.equal(forged.status, 403);
  assert.equal(forged.headers.get('location'), null);
  const stray = await fetch(`${demo.bookClub}/callback?code=abc&state=xyz`, { redirect: 'manual' });
  assert.equal(stray.status, 400);
  assert.match(await stray.text(), /That sign-in expired or was not started here/);
});
