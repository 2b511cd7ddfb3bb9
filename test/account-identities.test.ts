/**
 * Linked identities on the account page (issue 8), over real HTTP: the external accounts a user can
 * sign in with are listed; Remove unlinks one (audited `identity.unlinked`); and the refusals (an
 * identity that is not the user's, a post without the CSRF token). The links are set up in the
 * store as a first sign-in through a provider leaves them (the sign-in itself: test/federation-*.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startShopFixture, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';
import { alerts, page, signIn, submit, submitAndFollow } from './account/helpers.ts';

await forEachDialect('account page: linked identities', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  before(async () => { ({ fx, shop } = await startShopFixture(dialect)); });
  after(async () => { await fx.close(); });

  const ctx = () => fx.svc.service.context;

  /** A user with a password and a link to `corp` (subject `<username>-at-corp`). */
  async function linkedUser(username: string): Promise<string> {
    const user = await ctx().users.create({ username, email: `${username}@example.com`, password: PASSWORD, roles: ['customer'] }, 'test');
    await ctx().store.db.insertInto('federated_identities').values({ provider: 'corp', subject: `${username}-at-corp`, user_id: user.id, label: `${username}@corp.example`, linked_at: 1_780_000_000, last_login_at: null }).execute();
    return user.id;
  }

  test('ok: a linked identity is listed and Remove unlinks it', async () => {
    const id = await linkedUser('nia');
    const nia = await signIn(fx, shop, 'nia');
    const html = await (await page(nia)).text();
    assert.match(html, /<caption>Accounts you can sign in with<\/caption>/);
    assert.match(html, /nia@corp\.example/);
    assert.match(html, /name="provider" value="corp"><input type="hidden" name="subject" value="nia-at-corp"><button type="submit" class="secondary">Remove corp<\/button>/);
    const { html: after } = await submitAndFollow(nia, '/account/identities/unlink', { provider: 'corp', subject: 'nia-at-corp' });
    assert.match(alerts(after).join(' '), /The identity was removed/);
    assert.match(after, /No external accounts are linked/);
    assert.deepEqual(await ctx().linkedIdentities.list(id), []);
    const rows = await ctx().audit.list({ event: 'identity.unlinked', subject: id });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.actor, `user:${id}`);
  });

  test("fail-not-linked: removing someone else's identity changes nothing", async () => {
    const other = await linkedUser('oli');
    await ctx().users.create({ username: 'pip', email: 'pip@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
    const pip = await signIn(fx, shop, 'pip');
    const { html } = await submitAndFollow(pip, '/account/identities/unlink', { provider: 'corp', subject: 'oli-at-corp' });
    assert.match(alerts(html).join(' '), /not linked to your account/);
    assert.equal((await ctx().linkedIdentities.list(other)).length, 1);
  });

  test('fail-csrf: a removal without the CSRF token is refused and the link stays', async () => {
    const id = await linkedUser('quin');
    const quin = await signIn(fx, shop, 'quin');
    const res = await submit(quin, '/account/identities/unlink', { provider: 'corp', subject: 'quin-at-corp' }, { csrf: null });
    assert.equal(res.status, 403);
    assert.equal((await ctx().linkedIdentities.list(id)).length, 1);
  });
});
