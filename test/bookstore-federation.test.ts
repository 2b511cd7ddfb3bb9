/**
 * `npm start` brings "Partner SSO", a second Gatehouse acting as an external identity provider:
 * through the gateway, a person picks "Sign in with Partner SSO", signs in there as zoe, creates
 * a bookstore account on the first sign-in, and is then signed in to the shop as zoe, a customer.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { removeDataDir, startBookstore, type Bookstore } from './helpers/bookstore.ts';
import { HostBrowser, providerLink, form } from './federation/helpers.ts';
import { formAction, formField } from './oauth/helpers.ts';

let demo: Bookstore | undefined;
after(async () => {
  await demo?.stop();
  if (demo) removeDataDir(demo.dataDir);
});

test('ok: the demo signs zoe in through Partner SSO and the gateway, creating her account', async () => {
  demo = await startBookstore();
  const banner = /partner SSO\s+"Sign in with Partner SSO": zoe \/ (\S+) at (\S+)/.exec(demo.output());
  assert.ok(banner, `the banner names the partner:\n${demo.output()}`);
  const [, password, partner] = banner;
  const origin = demo.origin;
  const browser = new HostBrowser();
  const leaves = (host: string) => (url: URL) => url.origin !== host;

  const signInPage = await browser.follow(`${origin}/login?return_to=/`, leaves(origin));
  assert.equal(signInPage.res.status, 200);
  const toPartner = await browser.fetch(new URL(providerLink(await signInPage.res.text(), 'Partner SSO'), signInPage.url).href);
  assert.equal(toPartner.status, 303);
  const partnerPage = await browser.follow(toPartner.headers.get('location')!, leaves(partner!));
  const html = await partnerPage.res.text();
  const posted = await browser.post(new URL(formAction(html, '/login'), partner).href, { csrf: formField(html, 'csrf'), username: 'zoe', password: password! });
  assert.equal(posted.status, 303);
  const back = await browser.follow(new URL(posted.headers.get('location')!, partner).href, leaves(partner!));
  assert.equal(new URL(back.url).origin, origin, 'back at the gateway');
  const choice = await browser.follow(back.url, leaves(origin));
  assert.equal(choice.res.status, 200);
  const create = form(await choice.res.text(), '/federation/create');
  const created = await browser.post(new URL(create.action, choice.url).href, { csrf: create.csrf });
  assert.equal(created.status, 303);
  const landed = await browser.follow(new URL(created.headers.get('location')!, choice.url).href, leaves(origin));
  assert.equal(landed.res.status, 200, `landed on ${landed.url}`);
  const me = await browser.fetch(`${origin}/api/me`);
  assert.equal(me.status, 200);
  const body = await me.json() as { username?: string; roles?: string[] };
  assert.equal(body.username, 'zoe');
  assert.deepEqual(body.roles, ['customer']);
});
