/**
 * Linked identities after the first sign-in: listed and removable (contract 3, the account page's
 * `linkedIdentities`), the last way to sign in kept, roles the rules give later granted, a
 * disabled account refused.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/dialects.ts';
import { PASSWORD, codeFlow } from './oauth/helpers.ts';
import { startFederation, HostBrowser, viaProvider, createViaProvider, PROVIDER_ID, type FederationFixture } from './federation/helpers.ts';

await forEachDialect('federation accounts', (dialect) => {
  let fx: FederationFixture;
  before(async () => { fx = await startFederation(dialect, { type: 'oidc' }); });
  after(async () => { await fx.close(); });
  const ctx = () => fx.ours.svc.service.context;
  const audit = (event: string) => ctx().audit.list({ event: event as never });

  test('ok: unlink removes the identity (audited); the next sign-in through it is a first sign-in again', async () => {
    const idpId = await fx.idpUser('gina');
    const userId = await createViaProvider(fx, 'gina');
    await ctx().users.setPassword(userId, PASSWORD, 'test'); // another way in, so the link may go
    assert.equal(await ctx().linkedIdentities.unlink(userId, PROVIDER_ID, idpId, `user:${userId}`), true);
    assert.deepEqual(await ctx().linkedIdentities.list(userId), []);
    assert.ok((await audit('identity.unlinked')).some((row) => row.subject === userId && row.data?.provider === PROVIDER_ID));
    const { landed } = await viaProvider(fx, new HostBrowser(), 'gina');
    assert.equal(landed.res.status, 200);
    assert.match(await landed.res.text(), /First sign-in with Corp IdP/);
  });

  test('fail-last-way: the only identity of an account without a password cannot be removed', async () => {
    const idpId = await fx.idpUser('hank');
    const userId = await createViaProvider(fx, 'hank');
    await assert.rejects(ctx().linkedIdentities.unlink(userId, PROVIDER_ID, idpId, `user:${userId}`), { code: 'conflict' });
    assert.equal((await ctx().linkedIdentities.list(userId)).length, 1);
  });

  test('ok: unlinking what is not linked to this user answers false and changes nothing', async () => {
    const idpId = await fx.idpUser('ivy');
    const userId = await createViaProvider(fx, 'ivy');
    assert.equal(await ctx().linkedIdentities.unlink(fx.ours.users.alice, PROVIDER_ID, idpId, 'user:alice'), false);
    assert.equal((await ctx().linkedIdentities.list(userId)).length, 1);
  });

  test('ok: a role the rules give at a later sign-in is granted (never taken away)', async () => {
    await fx.idpUser('jack');
    const userId = await createViaProvider(fx, 'jack');
    assert.deepEqual((await ctx().users.findById(userId))?.roles, []);
    await fx.idp.service.context.users.grantRole('jack', 'staff', 'test');
    const { landed } = await viaProvider(fx, new HostBrowser(), 'jack');
    assert.equal(landed.res.status, 303);
    assert.deepEqual((await ctx().users.findById(userId))?.roles, ['staff']);
    assert.ok((await audit('role.granted')).some((row) => row.subject === userId && row.actor === `provider:${PROVIDER_ID}`));
    await fx.idp.service.context.users.revokeRole('jack', 'staff', 'test');
    await viaProvider(fx, new HostBrowser(), 'jack');
    assert.deepEqual((await ctx().users.findById(userId))?.roles, ['staff']);
  });

  test('ok: the admin API lists and unlinks linked identities (404 when none, 409 for the last way in)', async () => {
    const idpId = await fx.idpUser('lou');
    const userId = await createViaProvider(fx, 'lou');
    const token = (await codeFlow(fx.shop, fx.ours.issuer, { username: 'bob', params: { scope: 'openid admin', resource: fx.ours.issuer } })).tokens.access_token;
    const admin = (path: string, method = 'GET') => fetch(`${fx.ours.issuer}/admin/api${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    const listed = await admin('/users/lou/identities');
    assert.equal(listed.status, 200);
    assert.deepEqual(((await listed.json()) as { identities: Array<{ provider: string; subject: string }> }).identities.map((i) => [i.provider, i.subject]), [[PROVIDER_ID, idpId]]);
    assert.equal((await admin(`/users/lou/identities/${PROVIDER_ID}/${idpId}`, 'DELETE')).status, 409);
    await ctx().users.setPassword(userId, PASSWORD, 'test');
    assert.equal((await admin(`/users/lou/identities/${PROVIDER_ID}/${idpId}`, 'DELETE')).status, 204);
    assert.equal((await admin(`/users/lou/identities/${PROVIDER_ID}/${idpId}`, 'DELETE')).status, 404);
    assert.ok((await audit('identity.unlinked')).some((row) => row.subject === userId && row.actor === `user:${fx.ours.users.bob}`));
  });

  test('fail-disabled: a linked identity of a disabled account does not sign in', async () => {
    await fx.idpUser('kim');
    const userId = await createViaProvider(fx, 'kim');
    await ctx().users.disable(userId, 'test');
    const { landed } = await viaProvider(fx, new HostBrowser(), 'kim');
    assert.equal(landed.res.status, 403);
    assert.match(await landed.res.text(), /disabled/);
    assert.ok((await audit('login.failed')).some((row) => row.subject === userId && row.reason === 'disabled'));
  });
});
