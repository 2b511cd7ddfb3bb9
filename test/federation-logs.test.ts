/**
 * No secret of a sign-in through a provider reaches our log, even at `trace`: our client secret at
 * the provider, the code, state, nonce, PKCE verifier, the provider's tokens, our sealed cookies.
 * Failures are logged too (tampered state, a forged ID token) — with their reason only.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { capturedLog } from './helpers/service.ts';
import { startFederation, HostBrowser, ourLoginPage, clickProvider, signInAtIdp, followOurs, form, type FederationFixture } from './federation/helpers.ts';

const { lines, logger } = capturedLog();
const secrets = new Map<string, string>();
let fx: FederationFixture;

before(async () => {
  fx = await startFederation('sqlite', { type: 'oidc', logger });
  secrets.set('client secret at the provider', fx.clientSecret);
  fx.proxy.tamperToken = (body) => {
    secrets.set('provider access token', String(body.access_token));
    secrets.set('provider ID token', String(body.id_token));
    return body;
  };
});
after(async () => { await fx.close(); });

async function signInRecording(name: string, tamper?: (callback: URL) => void) {
  await fx.idpUser(name);
  const browser = new HostBrowser();
  const { html } = await ourLoginPage(fx, browser);
  const authorize = await clickProvider(fx, browser, html);
  for (const param of ['state', 'nonce', 'code_challenge']) secrets.set(`${name} ${param}`, authorize.searchParams.get(param)!);
  const callback = await signInAtIdp(fx, browser, authorize, name);
  secrets.set(`${name} code`, callback.searchParams.get('code')!);
  for (const [cookie, value] of browser.jar(fx.ours.issuer).cookies) if (cookie.startsWith('gatehouse_federation')) secrets.set(`${name} flow cookie`, value);
  tamper?.(callback);
  return { browser, landed: await followOurs(fx, browser, callback) };
}

test('ok: a full first sign-in, a tampered one and a forged one log none of their secrets', async () => {
  const { browser, landed } = await signInRecording('lena');
  const identityCookie = browser.jar(fx.ours.issuer).cookies.get('gatehouse_federated');
  assert.ok(identityCookie);
  secrets.set('identity cookie', identityCookie);
  const create = form(await landed.res.text(), '/federation/create');
  assert.equal((await browser.post(new URL(create.action, fx.ours.issuer).href, { csrf: create.csrf })).status, 303);

  const tampered = await signInRecording('mona', (callback) => callback.searchParams.set('state', 'x'));
  assert.equal(tampered.landed.res.status, 400);

  const forge = fx.proxy.tamperToken!;
  fx.proxy.tamperToken = (body) => { forge(body); const [h, p] = String(body.id_token).split('.'); return { ...body, id_token: `${h}.${p}.${'A'.repeat(86)}` }; };
  const forged = await signInRecording('nina');
  assert.equal(forged.landed.res.status, 400);

  const log = lines.join('');
  assert.match(log, /sign-in through identity provider failed/, 'the failures were logged');
  for (const [what, value] of secrets) {
    assert.ok(value && value.length >= 16, `${what} was captured`);
    assert.ok(!log.includes(value), `${what} appears in the log`);
  }
});
