/**
 * A real provider's answers, tampered with on the way (in the browser's redirect, or by a small
 * HTTP intermediary in front of the provider): wrong `iss`, bad `state`, bad `nonce`, a forged ID
 * token signature, no flow in this browser. Each is refused with a page, audited, and nothing is
 * created or linked.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/dialects.ts';
import { formAction, formField } from './oauth/helpers.ts';
import { startFederation, HostBrowser, ourLoginPage, clickProvider, signInAtIdp, followOurs, PROVIDER_ID, type FederationFixture } from './federation/helpers.ts';

function suite(dialect: 'sqlite' | 'postgres', type: 'oidc' | 'oauth2') {
  let fx: FederationFixture;
  before(async () => { fx = await startFederation(dialect, { type }); });
  after(async () => { await fx.close(); });
  const ctx = () => fx.ours.svc.service.context;
  const counts = async () => ({
    users: (await ctx().users.list()).length,
    links: (await ctx().store.db.selectFrom('federated_identities').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
  });

  /** Up to the redirect back to our callback, for a new IdP user; `rewrite` may change the IdP authorization URL first. */
  async function toCallback(name: string, rewrite?: (authorize: URL) => void) {
    await fx.idpUser(name);
    const browser = new HostBrowser();
    const { html } = await ourLoginPage(fx, browser);
    const authorize = await clickProvider(fx, browser, html);
    rewrite?.(authorize);
    return { browser, callback: await signInAtIdp(fx, browser, authorize, name) };
  }

  async function refusedWith(browser: HostBrowser, callback: URL, check: string) {
    const before = await counts();
    const since = (await ctx().audit.list({ latest: true, limit: 1 }))[0]?.seq ?? 0;
    const res = await browser.fetch(callback.href);
    assert.equal(res.status, 400);
    const page = await res.text();
    assert.match(page, /failed a security check/);
    assert.match(page, /Back to sign-in/);
    assert.deepEqual(await counts(), before, 'nothing created or linked');
    const row = (await ctx().audit.list({ event: 'login.failed', latest: true, limit: 1 }))[0];
    assert.ok(row && row.seq > since, 'an audit row');
    assert.equal(row.reason, 'federation_invalid_response');
    assert.deepEqual(row.data, { provider: PROVIDER_ID, check });
    // The interaction is still there: the page leads back to a working sign-in page.
    const back = /href="([^"]+)">Back to sign-in/.exec(page)![1]!;
    assert.equal((await browser.fetch(new URL(back, fx.ours.issuer).href)).status, 200);
  }

  test('fail-iss: an authorization response with another issuer is refused (RFC 9207)', async () => {
    const { browser, callback } = await toCallback(`iss-${type}`);
    assert.equal(callback.searchParams.get('iss'), fx.idpIssuer, 'the provider sends iss');
    callback.searchParams.set('iss', 'http://localhost:1/evil');
    await refusedWith(browser, callback, 'iss');
  });

  test('fail-state: a callback whose state is not the one sent is refused', async () => {
    const { browser, callback } = await toCallback(`state-${type}`);
    callback.searchParams.set('state', 'forged-state-value');
    await refusedWith(browser, callback, 'state');
  });

  test('fail-flow-missing: a callback in a browser that started no sign-in is refused without exchanging the code', async () => {
    const { callback } = await toCallback(`noflow-${type}`);
    const stranger = new HostBrowser();
    const res = await stranger.fetch(callback.href);
    assert.equal(res.status, 400);
    const row = (await ctx().audit.list({ event: 'login.failed', latest: true, limit: 1 }))[0];
    assert.equal(row?.data?.check, 'flow_missing');
  });

  test('fail-cancelled: the user cancelling at the provider gets a page saying so; nothing is created', async () => {
    await fx.idpUser(`cancel-${type}`);
    const browser = new HostBrowser();
    const { html } = await ourLoginPage(fx, browser);
    const authorize = await clickProvider(fx, browser, html);
    const page = await browser.follow(authorize.href, (url) => url.origin !== fx.idpIssuer);
    const idpHtml = await page.res.text();
    const abort = await browser.post(new URL(formAction(idpHtml, '/abort'), fx.idpIssuer).href, { csrf: formField(idpHtml, 'csrf') });
    const back = await browser.follow(new URL(abort.headers.get('location')!, fx.idpIssuer).href, (url) => url.origin !== fx.idpIssuer);
    const before = await counts();
    const res = await browser.fetch(back.url);
    assert.equal(res.status, 403);
    assert.match(await res.text(), /cancelled or refused/);
    assert.deepEqual(await counts(), before);
    const row = (await ctx().audit.list({ event: 'login.failed', latest: true, limit: 1 }))[0];
    assert.equal(row?.reason, 'federation_provider_error');
    assert.equal(row?.data?.check, 'access_denied');
  });

  if (type === 'oidc') {
    test('fail-unknown-provider: a provider id that is not configured is a 404 page, at the start and at the callback', async () => {
      const browser = new HostBrowser();
      const { html } = await ourLoginPage(fx, browser);
      const link = new URL(/href="([^"]+\/federation\/corp)"/.exec(html)![1]!, fx.ours.issuer);
      const unknown = await browser.fetch(link.href.replace(/corp$/, 'nope'));
      assert.equal(unknown.status, 404);
      assert.match(await unknown.text(), /Unknown sign-in method/);
      assert.equal((await browser.fetch(`${fx.ours.issuer}/federation/nope/callback?code=x&state=y`)).status, 404);
      assert.equal((await browser.fetch(link.href.replace(/corp$/, 'x'.repeat(200)))).status, 404);
    });

    test('fail-csrf: creating an account without the page\'s CSRF token is refused; nothing is created', async () => {
      const { browser, callback } = await toCallback('csrf-oidc');
      const landed = await followOurs(fx, browser, callback);
      const page = await landed.res.text();
      const action = /action="([^"]*\/federation\/create)"/.exec(page)![1]!;
      const before = await counts();
      const res = await browser.post(new URL(action, fx.ours.issuer).href, { csrf: 'forged' });
      assert.equal(res.status, 403);
      assert.deepEqual(await counts(), before);
    });

    test('fail-nonce: an ID token with another nonce is refused', async () => {
      const { browser, callback } = await toCallback('nonce-oidc', (authorize) => authorize.searchParams.set('nonce', 'not-the-nonce-we-sent'));
      await refusedWith(browser, callback, 'nonce');
    });

    test('fail-signature: an ID token with a forged signature is refused (non-repudiation checks are on)', async () => {
      const { browser, callback } = await toCallback('forged-oidc');
      fx.proxy.tamperToken = (body) => {
        const [header, payload, signature] = String(body.id_token).split('.');
        const bytes = Buffer.from(signature!, 'base64url');
        bytes[0] = bytes[0]! ^ 0xff;
        return { ...body, id_token: `${header}.${payload}.${bytes.toString('base64url')}` };
      };
      try {
        await refusedWith(browser, callback, 'signature');
      } finally {
        fx.proxy.tamperToken = undefined;
      }
    });
  }
}

await forEachDialect('federation refusals (oidc)', (dialect) => suite(dialect, 'oidc'));
describe('federation refusals (oauth2 + userinfo) [sqlite]', () => suite('sqlite', 'oauth2'));
