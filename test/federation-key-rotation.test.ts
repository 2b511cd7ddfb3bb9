/**
 * The JWKS caveat of openid-client (STACK-NOTES): it refetches a provider's keys on an unknown
 * `kid` only when its copy is ≥ 60 s old. Gatehouse presents its copy as old enough at every
 * sign-in, so a sign-in right after the provider starts signing with a key we have never seen
 * fetches the new keys at once and succeeds; a known key needs no fetch.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFederation, HostBrowser, viaProvider, createViaProvider, type FederationFixture } from './federation/helpers.ts';

let fx: FederationFixture;
before(async () => { fx = await startFederation('sqlite', { type: 'oidc' }); });
/** Every request to the IdP goes through the fixture's proxy: count the JWKS fetches there. */
const jwksFetches = () => fx.proxy.requests.filter((line) => line.startsWith('GET /.well-known/jwks.json'));
after(async () => { await fx.close(); });

test('ok: a sign-in right after the provider rotated to an unseen key fetches the new keys and succeeds', async () => {
  await fx.idpUser('pia');
  const userId = await createViaProvider(fx, 'pia'); // our copy of the IdP's JWKS is now fresh
  const fetchedBefore = jwksFetches().length;
  const known = await viaProvider(fx, new HostBrowser(), 'pia');
  assert.equal(known.landed.res.status, 303);
  assert.equal(jwksFetches().length, fetchedBefore, 'a known key is taken from the copy');

  const idp = fx.idp.service.context;
  // Twice: the provider publishes its next key ahead, so only the key made by the first rotation is new to us.
  await idp.keys.rotate('test', { force: true });
  await idp.keys.rotate('test', { force: true });
  assert.equal(await idp.oauth.checkKeys(), true);

  const rotated = await viaProvider(fx, new HostBrowser(), 'pia');
  assert.equal(rotated.landed.res.status, 303, 'signed in with the new key');
  assert.equal(jwksFetches().length, fetchedBefore + 1, 'the unknown kid was fetched once');
  assert.ok((await fx.ours.svc.service.context.audit.list({ event: 'login.succeeded', subject: userId })).length >= 2);
});
