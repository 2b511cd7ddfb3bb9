/**
 * The JWKS caveat of openid-client (STACK-NOTES): it refetches a provider's keys only when its copy
 * is ≥ 60 s old. Right after the provider starts signing with a key we have never seen, a sign-in
 * fails with a page (`check: key`) — and Gatehouse drops its copy, so the retry succeeds.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startFederation, HostBrowser, viaProvider, createViaProvider, type FederationFixture } from './federation/helpers.ts';

let fx: FederationFixture;
before(async () => { fx = await startFederation('sqlite', { type: 'oidc' }); });
after(async () => { await fx.close(); });

test('fail-then-ok: a sign-in just after the provider rotated to an unseen key fails with a page; the retry works', async () => {
  await fx.idpUser('pia');
  const userId = await createViaProvider(fx, 'pia'); // our copy of the IdP's JWKS is now fresh
  const idp = fx.idp.service.context;
  // Twice: the provider publishes its next key ahead, so only the key made by the first rotation is new to us.
  await idp.keys.rotate('test', { force: true });
  await idp.keys.rotate('test', { force: true });
  assert.equal(await idp.oauth.checkKeys(), true);

  const failed = await viaProvider(fx, new HostBrowser(), 'pia');
  assert.equal(failed.landed.res.status, 400);
  const row = (await fx.ours.svc.service.context.audit.list({ event: 'login.failed', latest: true, limit: 1 }))[0];
  assert.equal(row?.data?.check, 'key');

  const retry = await viaProvider(fx, new HostBrowser(), 'pia');
  assert.equal(retry.landed.res.status, 303, 'the retry signs in');
  assert.ok((await fx.ours.svc.service.context.audit.list({ event: 'login.succeeded', subject: userId })).length >= 1);
});
