/**
 * A slow or failing provider fails its own button within its timeout (1 s here) with a clear
 * page; the service starts anyway, password sign-in and the other providers keep working, and a
 * provider that comes back works without a restart (lazy discovery, retried).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from './helpers/service.ts';
import { Browser, authorizationUrl, signIn } from './oauth/helpers.ts';
import { startFederation, HostBrowser, ourLoginPage, clickProvider, providerLink, signInAtIdp, followOurs, form, type FederationFixture } from './federation/helpers.ts';

/** Loose bound: the timeout is 1 s; anything near the 30 s default would be a failure. */
const WITHIN = 5000;

async function deadProvider(): Promise<Record<string, unknown>> {
  return { id: 'dead', name: 'Dead IdP', type: 'oidc', issuer: `http://127.0.0.1:${await freePort()}`, clientId: 'nobody', timeout: 1 };
}

async function passwordSignIn(fx: FederationFixture): Promise<void> {
  const started = await authorizationUrl(fx.shop);
  const callback = await signIn(new Browser(), fx.ours.issuer, started.url);
  assert.ok(callback.searchParams.get('code'), 'password sign-in gave a code');
}

async function clickAndTime(fx: FederationFixture, name: string) {
  const browser = new HostBrowser();
  const { html } = await ourLoginPage(fx, browser);
  const started = Date.now();
  const res = await browser.fetch(new URL(providerLink(html, name), fx.ours.issuer).href);
  return { res, elapsed: Date.now() - started, page: await res.text() };
}

describe('federation outage: a provider that hangs from the start [sqlite]', () => {
  let fx: FederationFixture;
  before(async () => { fx = await startFederation('sqlite', { type: 'oidc', provider: { timeout: 1 }, proxyModeAtStart: 'slow' }); });
  after(async () => { await fx.close(); });

  test('fail-provider-slow: the service started; the button fails within the timeout with a page while password sign-in works', async () => {
    const [click] = await Promise.all([clickAndTime(fx, 'Corp IdP'), passwordSignIn(fx)]);
    assert.equal(click.res.status, 503);
    assert.ok(click.elapsed < WITHIN, `answered after ${click.elapsed} ms`);
    assert.match(click.page, /Corp IdP is not available/);
    assert.match(click.page, /sign in another way/);
    const row = (await fx.ours.svc.service.context.audit.list({ event: 'login.failed', latest: true, limit: 1 }))[0];
    assert.equal(row?.reason, 'federation_provider_unavailable');
  });
});

describe('federation outage: down, back, and slow at the callback [sqlite]', () => {
  let fx: FederationFixture;
  before(async () => { fx = await startFederation('sqlite', { type: 'oidc', provider: { timeout: 1 }, extraProviders: [await deadProvider()], proxyModeAtStart: 'down' }); });
  after(async () => { await fx.close(); });

  test('fail-provider-down: a provider refusing connections fails its button at once; password sign-in works', async () => {
    fx.proxy.mode = 'down';
    const click = await clickAndTime(fx, 'Dead IdP');
    assert.equal(click.res.status, 503);
    assert.ok(click.elapsed < WITHIN);
    assert.match(click.page, /Dead IdP is not available/);
    await passwordSignIn(fx);
  });

  test('ok: a provider that was down at start works once it is back, beside a dead one', async () => {
    fx.proxy.mode = 'normal';
    await fx.idpUser('erin');
    const browser = new HostBrowser();
    const { html } = await ourLoginPage(fx, browser);
    assert.ok(providerLink(html, 'Dead IdP'), 'the dead provider still has its button');
    const authorize = await clickProvider(fx, browser, html);
    const callback = await signInAtIdp(fx, browser, authorize, 'erin');
    const landed = await followOurs(fx, browser, callback);
    const create = form(await landed.res.text(), '/federation/create');
    assert.equal((await browser.post(new URL(create.action, fx.ours.issuer).href, { csrf: create.csrf })).status, 303);
    assert.equal((await fx.ours.svc.service.context.users.find('erin')).email, 'erin@idp.example');
  });

  test('fail-provider-slow-callback: a token endpoint that hangs fails the callback within the timeout; nothing is created', async () => {
    fx.proxy.mode = 'normal';
    await fx.idpUser('frank');
    const browser = new HostBrowser();
    const { html } = await ourLoginPage(fx, browser);
    const callback = await signInAtIdp(fx, browser, await clickProvider(fx, browser, html), 'frank');
    fx.proxy.mode = 'slow';
    try {
      const started = Date.now();
      const [res] = await Promise.all([browser.fetch(callback.href), passwordSignIn(fx)]);
      assert.ok(Date.now() - started < WITHIN);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /Corp IdP is not available/);
      await assert.rejects(fx.ours.svc.service.context.users.find('frank'));
    } finally {
      fx.proxy.mode = 'normal';
    }
  });
});
