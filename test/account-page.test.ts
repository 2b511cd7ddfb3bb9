/**
 * The account page over real HTTP (issue 8): a real Security Service, people signed in through
 * the real form, and the page driven with each session's token as the bearer — exactly what the
 * gateway forwards for a browser. Profile, password change, sessions, the refusals (no or wrong
 * token, CSRF, cross-origin). The page through the gateway in Chromium: test/bookstore-account.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { forEachDialect } from './helpers/dialects.ts';
import { startService } from './helpers/service.ts';
import { startShopFixture, revokedSince, rp, tokenRequest, basic, codeFlow, Browser, PASSWORD, type OAuthFixture } from './oauth/helpers.ts';
import type { PublishedEvent } from '../src/events/types.ts';
import { alerts, page, signIn, submit, submitAndFollow, csrfOf, claims, OFFLINE } from './account/helpers.ts';

const NEW_PASSWORD = 'Copper-Thistle-Harbor-5527';

await forEachDialect('account page', (dialect) => {
  let fx: OAuthFixture;
  let shop: oidc.Configuration;
  let published: PublishedEvent[];
  // The service's clock runs with real time except while a test holds it still (`paused`).
  let paused: number | undefined;
  const clock = { now: () => paused ?? Date.now() };
  before(async () => { ({ fx, shop, published } = await startShopFixture(dialect, { clock })); });
  after(async () => { await fx.close(); });

  /** A user of its own for a test that changes the password or ends sessions. */
  async function newUser(username: string): Promise<string> {
    return (await fx.svc.service.context.users.create({ username, email: `${username}@example.com`, password: PASSWORD, roles: ['customer'] }, 'test')).id;
  }

  test('ok: the page shows the profile (username, e-mail, roles) with strict page headers and no script', async () => {
    const alice = await signIn(fx, shop);
    const res = await page(alice);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(html, /<h1>Your account<\/h1>/);
    assert.match(html, /<dd>alice<\/dd>/);
    assert.match(html, /<dd>alice@example\.com<\/dd>/);
    assert.match(html, /<dd>customer<\/dd>/);
    assert.doesNotMatch(html, /<script/i);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    // Not no-referrer: under it browsers post forms with `Origin: null`, which the origin check refuses.
    assert.equal(res.headers.get('referrer-policy'), 'same-origin');
  });

  test('fail-unauthenticated: without a bearer token the page is a 401 sign-in page', async () => {
    const res = await fetch(`${fx.issuer}/account`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    const html = await res.text();
    assert.match(html, /href="\/login\?return_to=%2Faccount"/);
    assert.doesNotMatch(html, /alice/);
  });

  test('fail-not-a-session-token: a client_credentials token (no sid) is refused', async () => {
    const res = await tokenRequest(fx.issuer, { grant_type: 'client_credentials', scope: 'books:read' }, basic('orders-svc', fx.service.secret));
    assert.equal(res.status, 200);
    const { access_token } = (await res.json()) as { access_token: string };
    assert.equal(claims(access_token).sid, undefined);
    assert.equal((await fetch(`${fx.issuer}/account`, { headers: { authorization: `Bearer ${access_token}` } })).status, 401);
  });

  test('fail-wrong-audience: a session token for another audience (the admin API) is refused, and so is a forged one', async () => {
    const { tokens } = await codeFlow(shop, fx.issuer, { username: 'bob', params: { scope: 'openid admin', resource: fx.issuer } });
    assert.equal(claims(tokens.access_token).aud, fx.issuer);
    assert.equal(typeof claims(tokens.access_token).sid, 'string');
    assert.equal((await fetch(`${fx.issuer}/account`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 401);
    const alice = await signIn(fx, shop);
    const [header, payload] = alice.tokens.access_token.split('.');
    const forged = `${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`;
    assert.equal((await fetch(`${fx.issuer}/account`, { headers: { authorization: `Bearer ${forged}` } })).status, 401);
  });

  test('fail-third-party: a token of a third-party app (not first-party) is refused, though it names a session', async () => {
    const partner = await rp(fx.issuer, 'partner', fx.thirdParty.secret);
    const { tokens } = await codeFlow(partner, fx.issuer, { params: { scope: 'openid books:read' }, consent: true });
    assert.equal(claims(tokens.access_token).aud, fx.api);
    assert.equal(typeof claims(tokens.access_token).sid, 'string');
    assert.equal((await fetch(`${fx.issuer}/account`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).status, 401);
  });

  test('ok: the password changes with the right current password; the old one is then refused and every session ends', async () => {
    await newUser('pat');
    const pat = await signIn(fx, shop, 'pat');
    const other = await signIn(fx, shop, 'pat');
    const from = published.length;
    const res = await submit(pat, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    assert.equal(res.status, 303);
    const authenticator = fx.svc.service.context.authenticator;
    assert.equal((await authenticator.authenticate({ username: 'pat', password: PASSWORD, ip: '192.0.2.10' })).ok, false);
    assert.equal((await authenticator.authenticate({ username: 'pat', password: NEW_PASSWORD, ip: '192.0.2.10' })).ok, true);
    // This session ended too: the page is a 401 that says why (the flash survives the session).
    const after = await page(pat);
    assert.equal(after.status, 401);
    assert.match(alerts(await after.text()).join(' '), /password was changed/i);
    assert.equal((await page(other)).status, 401);
    await assert.rejects(oidc.refreshTokenGrant(shop, other.tokens.refresh_token!));
    assert.ok(revokedSince(published, from).some((e) => e.reason === 'password_changed'));
  });

  test('ok: an account without a password (made through an external provider) sets a first one without a current password, soon after signing in', async () => {
    const id = await newUser('ursula');
    const uma = await signIn(fx, shop, 'ursula');
    // What an account created through an external identity provider looks like: no password hash.
    await fx.svc.service.context.store.db.updateTable('users').set({ password_hash: null }).where('id', '=', id).execute();
    const html = await (await page(uma)).text();
    assert.match(html, /<h2 id="password">Set a password<\/h2>/);
    assert.doesNotMatch(html, /name="current"/, 'no current-password field: there is none');
    const from = published.length;
    const res = await submit(uma, '/account/password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    assert.equal(res.status, 303);
    assert.equal((await fx.svc.service.context.authenticator.authenticate({ username: 'ursula', password: NEW_PASSWORD, ip: '192.0.2.14' })).ok, true);
    assert.match(alerts(await (await page(uma)).text()).join(' '), /password was set/i);
    assert.ok(revokedSince(published, from).some((e) => e.reason === 'password_changed'), 'every session signed out, as for a change');
  });

  test('fail-no-current-password: an account that has a password cannot change it without the current one', async () => {
    await newUser('vicky');
    const vic = await signIn(fx, shop, 'vicky');
    const { html } = await submitAndFollow(vic, '/account/password', { password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    assert.match(alerts(html).join(' '), /Enter your current password/);
    assert.equal((await fx.svc.service.context.authenticator.authenticate({ username: 'vicky', password: PASSWORD, ip: '192.0.2.15' })).ok, true);
  });

  test('fail-wrong-current-password: an error on the page, the password unchanged', async () => {
    await newUser('quinn');
    const quinn = await signIn(fx, shop, 'quinn');
    const { html } = await submitAndFollow(quinn, '/account/password', { current: 'not-the-password', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    assert.match(alerts(html).join(' '), /current password is not correct/);
    assert.equal((await fx.svc.service.context.authenticator.authenticate({ username: 'quinn', password: PASSWORD, ip: '192.0.2.11' })).ok, true);
  });

  test('fail-weak-password: the policy refuses a common password with its reason, nothing changed', async () => {
    await newUser('robin');
    const robin = await signIn(fx, shop, 'robin');
    const { status, html } = await submitAndFollow(robin, '/account/password', { current: PASSWORD, password: 'password1', confirm: 'password1' });
    assert.equal(status, 200, 'the session survives a refused change');
    assert.ok(alerts(html).length === 1 && !/changed\./.test(alerts(html)[0]!), `a policy message, got ${alerts(html)}`);
    assert.equal((await fx.svc.service.context.authenticator.authenticate({ username: 'robin', password: PASSWORD, ip: '192.0.2.12' })).ok, true);
  });

  test('fail-mismatch: two different new passwords are refused, nothing changed', async () => {
    await newUser('sam');
    const sam = await signIn(fx, shop, 'sam');
    const { html } = await submitAndFollow(sam, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}x` });
    assert.match(alerts(html).join(' '), /do not match/);
    assert.equal((await fx.svc.service.context.authenticator.authenticate({ username: 'sam', password: PASSWORD, ip: '192.0.2.13' })).ok, true);
  });

  test('fail-throttled: wrong current passwords are throttled like sign-in', async () => {
    await newUser('tess');
    const tess = await signIn(fx, shop, 'tess');
    const { throttle } = fx.svc.config;
    // Delays are whole seconds from the last failure, so a wall clock could cross into the next
    // second between two attempts and let one through: the service's clock holds still instead.
    paused = Date.now();
    try {
      // The free attempts and the first past them are checked; that one starts a delay.
      for (let i = 0; i <= throttle.freeAttempts; i++) {
        const { html } = await submitAndFollow(tess, '/account/password', { current: `wrong-${i}`, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
        assert.match(alerts(html).join(' '), /current password is not correct/, `attempt ${i + 1}`);
      }
      const { html: refused } = await submitAndFollow(tess, '/account/password', { current: 'wrong-again', password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.match(alerts(refused).join(' '), /Too many wrong passwords\. Try again in/);
      // Even the right password waits now.
      const { html } = await submitAndFollow(tess, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
      assert.match(alerts(html).join(' '), /Too many wrong passwords/);
    } finally {
      paused = undefined;
    }
  });

  test('ok: sessions are listed with this one marked; ending another ends its refresh and names its sid in tokens.revoked', async () => {
    const uma = await newUser('uma');
    const here = await signIn(fx, shop, 'uma');
    const there = await signIn(fx, shop, 'uma');
    const html = await (await page(here)).text();
    assert.equal([...html.matchAll(/<th scope="row" role="rowheader">Session \d/g)].length, 2);
    assert.equal([...html.matchAll(/class="badge">this session/g)].length, 1);
    // Last activity: when a token was last issued in each session.
    assert.equal([...html.matchAll(/last active <time datetime="/g)].length, 2);
    const ids = [...html.matchAll(/name="session" value="([^"]+)"/g)].map((m) => m[1]!);
    assert.equal(ids.length, 1, 'only the other session has an End button');
    const from = published.length;
    const { html: after } = await submitAndFollow(here, '/account/sessions/end', { session: ids[0]! });
    assert.match(alerts(after).join(' '), /session was ended/);
    assert.equal([...after.matchAll(/<th scope="row" role="rowheader">Session \d/g)].length, 1);
    await assert.rejects(oidc.refreshTokenGrant(shop, there.tokens.refresh_token!), (e: { error?: string }) => e.error === 'invalid_grant');
    assert.equal((await page(there)).status, 401);
    const event = revokedSince(published, from).find((e) => e.sessionId === there.sid);
    assert.ok(event, 'tokens.revoked names the ended session');
    assert.ok(event.tokenIds.includes(String(claims(there.tokens.access_token).jti)));
    assert.ok(event.issuedBefore >= Number(claims(there.tokens.access_token).iat));
    // This session is untouched.
    assert.equal((await page(here)).status, 200);
    assert.ok((await oidc.refreshTokenGrant(shop, here.tokens.refresh_token!)).access_token);
    const rows = await fx.svc.service.context.audit.list({ event: 'session.ended', subject: uma, latest: true, limit: 1 });
    assert.equal(rows[0]?.reason, 'session_ended');
    assert.equal(rows[0]?.actor, `user:${uma}`);
  });

  test('ok: ending a session keeps the grants of third-party apps made in it (connected apps outlive a browser session)', async () => {
    await newUser('ursa');
    const partner = await rp(fx.issuer, 'partner', fx.thirdParty.secret);
    const browser = new Browser();
    // In one browser session: a third-party app with lasting access, then the first-party shop.
    const app = await codeFlow(partner, fx.issuer, { params: OFFLINE, username: 'ursa', consent: true, browser });
    const { tokens: shopTokens } = await codeFlow(shop, fx.issuer, { params: OFFLINE, username: 'ursa', browser });
    const there = { browser, tokens: shopTokens, sid: String(claims(shopTokens.access_token).sid), fx };
    const here = await signIn(fx, shop, 'ursa');
    const html = await (await page(here)).text();
    const id = /name="session" value="([^"]+)"/.exec(html)![1]!;
    await submitAndFollow(here, '/account/sessions/end', { session: id });
    assert.equal((await page(there)).status, 401);
    await assert.rejects(oidc.refreshTokenGrant(shop, shopTokens.refresh_token!));
    assert.ok((await oidc.refreshTokenGrant(partner, app.tokens.refresh_token!)).access_token, 'the connected app keeps its access');
  });

  test('ok: ending every session ends this one too', async () => {
    await newUser('vic');
    const here = await signIn(fx, shop, 'vic');
    const there = await signIn(fx, shop, 'vic');
    const from = published.length;
    const res = await submit(here, '/account/sessions/end-all', {});
    assert.equal(res.status, 303);
    assert.equal((await page(here)).status, 401);
    assert.equal((await page(there)).status, 401);
    await assert.rejects(oidc.refreshTokenGrant(shop, here.tokens.refresh_token!));
    await assert.rejects(oidc.refreshTokenGrant(shop, there.tokens.refresh_token!));
    const sids = new Set(revokedSince(published, from).map((e) => e.sessionId));
    assert.ok(sids.has(here.sid) && sids.has(there.sid));
  });

  test('fail-unknown-session: ending a session of someone else changes nothing', async () => {
    await newUser('wren');
    const wren = await signIn(fx, shop, 'wren');
    const alice = await signIn(fx, shop, 'alice');
    const aliceSession = (await fx.svc.service.context.oauth.sessions.list(fx.users.alice)).find((s) => s.sids.includes(alice.sid))!;
    const { html } = await submitAndFollow(wren, '/account/sessions/end', { session: aliceSession.id });
    assert.match(alerts(html).join(' '), /already ended/);
    assert.equal((await page(alice)).status, 200);
  });

  test('fail-csrf: a post without the CSRF token, or with another session\'s, is a 403 page and changes nothing', async () => {
    await newUser('xena');
    const here = await signIn(fx, shop, 'xena');
    const there = await signIn(fx, shop, 'xena');
    const head = (await fx.svc.service.context.audit.list({ latest: true, limit: 1 }))[0]?.seq ?? 0;
    const none = await submit(here, '/account/sessions/end-all', {}, { csrf: null });
    assert.equal(none.status, 403);
    assert.match(await none.text(), /Form refused/);
    const foreign = await submit(here, '/account/sessions/end-all', {}, { csrf: await csrfOf(there) });
    assert.equal(foreign.status, 403);
    assert.equal((await page(here)).status, 200);
    assert.equal((await page(there)).status, 200);
    const rows = (await fx.svc.service.context.audit.list({ event: 'account.form_refused', since: head })).filter((r) => r.seq > head);
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.reason, 'csrf_token');
  });

  test('fail-cross-origin: a post from another origin is a 403 page even with the right CSRF token', async () => {
    await newUser('yara');
    const yara = await signIn(fx, shop, 'yara');
    const csrf = await csrfOf(yara);
    const res = await submit(yara, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD }, { csrf, headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
    const site = await submit(yara, '/account/password', { current: PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD }, { csrf, headers: { origin: '', 'sec-fetch-site': 'cross-site' } });
    assert.equal(site.status, 403);
    assert.equal((await fx.svc.service.context.authenticator.authenticate({ username: 'yara', password: PASSWORD, ip: '192.0.2.14' })).ok, true);
  });

  test('fail-malformed: a form with unexpected fields is refused on the page, nothing changed', async () => {
    await newUser('zed');
    const zed = await signIn(fx, shop, 'zed');
    const { html } = await submitAndFollow(zed, '/account/sessions/end', { session: '', extra: 'x' });
    assert.match(alerts(html).join(' '), /incomplete or malformed/);
  });
});

test('ok: account.enabled false: there is no /account', async () => {
  const svc = await startService({ config: { account: { enabled: false } } });
  try {
    assert.equal((await fetch(`${svc.url}/account`)).status, 404);
  } finally {
    await svc.close();
  }
});
