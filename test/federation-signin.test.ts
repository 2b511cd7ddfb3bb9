/**
 * Sign-in through an external identity provider — a second, independently configured Gatehouse
 * (a real OIDC provider) — as `type: oidc` and as `type: oauth2` + userinfo, through the real
 * login pages: first sign-in creates an account or links one after its password, the next
 * sign-in lands in the same account, role rules apply, nothing links by e-mail.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from './helpers/dialects.ts';
import { PASSWORD } from './oauth/helpers.ts';
import { startFederation, HostBrowser, viaProvider, followOurs, shopTokens, form, PROVIDER_ID, type FederationFixture } from './federation/helpers.ts';

function suite(dialect: 'sqlite' | 'postgres', type: 'oidc' | 'oauth2') {
  let fx: FederationFixture;
  before(async () => { fx = await startFederation(dialect, { type }); });
  after(async () => { await fx.close(); });
  const ctx = () => fx.ours.svc.service.context;
  const audit = (event: string) => ctx().audit.list({ event: event as never });

  test('ok: a first sign-in creates an account (username from the provider, roles by rule), the next lands in it', async () => {
    const idpId = await fx.idpUser(`carol-${type}`, { roles: ['staff'] });
    const browser = new HostBrowser();
    const { started, landed } = await viaProvider(fx, browser, `carol-${type}`);
    assert.equal(landed.res.status, 200);
    const page = await landed.res.text();
    assert.match(page, /First sign-in with Corp IdP/);
    const create = form(page, '/federation/create');
    const res = await browser.post(new URL(create.action, fx.ours.issuer).href, { csrf: create.csrf });
    assert.equal(res.status, 303);
    const done = await followOurs(fx, browser, new URL(res.headers.get('location')!, fx.ours.issuer));
    const claims = await shopTokens(fx, started, done.url);
    const user = await ctx().users.findById(String(claims.sub));
    assert.equal(user?.username, `carol-${type}`);
    assert.equal(user?.email, `carol-${type}@idp.example`);
    assert.deepEqual(user?.roles, ['staff']);
    assert.equal(user?.passwordChangedAt, null, 'a federated account has no password');
    assert.deepEqual((await ctx().linkedIdentities.list(user!.id)).map((l) => [l.provider, l.providerName, l.subject]), [[PROVIDER_ID, 'Corp IdP', idpId]]);
    assert.ok((await audit('identity.linked')).some((row) => row.subject === user!.id && row.reason === 'account_created'));

    // Second sign-in, a new browser: straight into the same account, no page in between.
    const again = new HostBrowser();
    const second = await viaProvider(fx, again, `carol-${type}`);
    assert.equal(second.landed.res.status, 303);
    assert.equal((await shopTokens(fx, second.started, second.landed.url)).sub, user!.id);
    assert.ok((await audit('login.succeeded')).some((row) => row.subject === user!.id && row.data?.provider === PROVIDER_ID));
  });

  test('ok: linking to an existing account needs its password; a wrong one links nothing', async () => {
    const idpId = await fx.idpUser(`dave-${type}`);
    const local = await ctx().users.create({ username: `dave-local-${type}`, email: `dave-local-${type}@example.com`, password: PASSWORD }, 'test');
    const browser = new HostBrowser();
    const { started, landed } = await viaProvider(fx, browser, `dave-${type}`);
    const page = await landed.res.text();
    const link = form(page, '/federation/link');
    const wrong = await browser.post(new URL(link.action, fx.ours.issuer).href, { csrf: link.csrf, username: local.username, password: 'not-the-password-1234' });
    assert.equal(wrong.status, 401);
    assert.deepEqual(await ctx().linkedIdentities.list(local.id), []);
    const right = await browser.post(new URL(link.action, fx.ours.issuer).href, { csrf: link.csrf, username: local.username, password: PASSWORD });
    assert.equal(right.status, 303);
    const done = await followOurs(fx, browser, new URL(right.headers.get('location')!, fx.ours.issuer));
    assert.equal((await shopTokens(fx, started, done.url)).sub, local.id);
    assert.deepEqual((await ctx().linkedIdentities.list(local.id)).map((l) => l.subject), [idpId]);
    assert.ok((await audit('identity.linked')).some((row) => row.subject === local.id && row.reason === 'password_confirmed'));
  });

  test('fail-email-match: an e-mail matching a local account links nothing and is audited', async () => {
    // alice@example.com is a local account of ours; the IdP's "mallory" claims the same address.
    await fx.idpUser(`mallory-${type}`, { email: 'alice@example.com' });
    const browser = new HostBrowser();
    const { landed } = await viaProvider(fx, browser, `mallory-${type}`);
    assert.equal(landed.res.status, 200, 'a choice page, not a sign-in');
    const page = await landed.res.text();
    assert.match(page, /An account with this e-mail address already exists/);
    assert.doesNotMatch(page, /federation\/create/, 'no "create" with an address that is taken');
    assert.deepEqual(await ctx().linkedIdentities.list(fx.ours.users.alice), []);
    const refused = (await audit('identity.link_refused')).filter((row) => row.subject === fx.ours.users.alice);
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.reason, 'email_matches_local_account');
    // Posting "create" anyway is refused too.
    const link = form(page, '/federation/link');
    const res = await browser.post(new URL(link.action.replace('/link', '/create'), fx.ours.issuer).href, { csrf: link.csrf });
    assert.equal(res.status, 409);
    assert.deepEqual(await ctx().linkedIdentities.list(fx.ours.users.alice), []);
  });
}

await forEachDialect('federation sign-in (oidc)', (dialect) => suite(dialect, 'oidc'));
describe('federation sign-in (oauth2 + userinfo) [sqlite]', () => suite('sqlite', 'oauth2'));
