/**
 * The session cookie's integrity: the https attributes, what happens to a tampered, foreign-key,
 * expired or mistyped cookie (anonymous and cleared), key rotation, and sessions too large for
 * one cookie (numbered chunks).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { frozenClock } from '../src/shared/clock.ts';
import { Browser, PASSWORD } from './oauth/helpers.ts';
import { freePort } from './helpers/service.ts';
import { startSsoService, startFront, signInThroughGateway, reach, setCookies, newCookieKey, type SsoFixture, type Front } from './gateway-sso/helpers.ts';

const COOKIE = 'gatehouse_session';
const HTTPS_ORIGIN = 'https://gateway.example';
/** Enough roles (they travel in the access token) to push a session past one cookie. */
const MANY_ROLES = Array.from({ length: 60 }, (_, i) => `department-role-${String(i).padStart(2, '0')}`);

describe('gateway session cookie', () => {
  let fx: SsoFixture;
  let front: Front;
  const key = newCookieKey();
  const clock = frozenClock(Date.now());
  let port: number;

  before(async () => {
    port = await freePort();
    fx = await startSsoService([`http://127.0.0.1:${port}`, HTTPS_ORIGIN], {
      config: { roles: { customer: ['books:read'], ...Object.fromEntries(MANY_ROLES.map((role) => [role, ['books:read']])) } },
    });
    await fx.svc.service.context.users.create({ username: 'morgan', email: 'morgan@example.com', password: PASSWORD, roles: MANY_ROLES }, 'test');
    front = await startFront(fx, { port, cookieKey: key, clock });
  });
  after(async () => {
    await front.close();
    await fx.close();
  });

  async function signedIn(on: Front = front, username?: string): Promise<Browser> {
    clock.set(Date.now());
    const browser = new Browser();
    const res = await signInThroughGateway(browser, on, fx.issuer, '/login', username);
    assert.equal(res.status, 303);
    return browser;
  }
  const api = (browser: Browser, on: Front = front) => browser.fetch(reach(on, '/api/me'), { headers: { accept: 'application/json' } });

  /** The request is anonymous and the cookie is cleared. */
  async function assertRefusedAndCleared(browser: Browser, on: Front = front): Promise<void> {
    const res = await api(browser, on);
    assert.equal(res.status, 401);
    const cleared = setCookies(res, on.publicUrl.startsWith('https:') ? `__Host-${COOKIE}` : COOKIE);
    assert.ok(cleared.length > 0 && cleared.every((line) => /=; Path=\/; Max-Age=0/.test(line)), `cleared: ${cleared.join(' | ')}`);
    assert.equal(browser.cookies.has(COOKIE), false);
  }

  test('ok: on an https public origin the session cookie is __Host- and Secure, the sign-in cookie __Secure-', async () => {
    const secure = await startFront(fx, { publicUrl: HTTPS_ORIGIN, cookieKey: key });
    try {
      const browser = new Browser();
      const start = await browser.fetch(reach(secure, '/login'));
      assert.match(setCookies(start, `__Secure-${COOKIE}.login`)[0]!, /; Path=\/login; Max-Age=600; HttpOnly; SameSite=Lax; Secure$/);
      assert.equal(new URL(start.headers.get('location')!).searchParams.get('redirect_uri'), `${HTTPS_ORIGIN}/login/callback`);
      const res = await signInThroughGateway(browser, secure, fx.issuer);
      assert.equal(res.status, 303);
      assert.match(setCookies(res, `__Host-${COOKIE}`)[0]!, /^__Host-gatehouse_session=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
      assert.equal((await api(browser, secure)).status, 200);
    } finally {
      await secure.close();
    }
  });

  test('fail-tampered: a modified cookie is anonymous and cleared', async () => {
    const browser = await signedIn();
    const value = browser.cookies.get(COOKIE)!;
    const at = value.length - 30;
    browser.cookies.set(COOKIE, `${value.slice(0, at)}${value[at] === 'A' ? 'B' : 'A'}${value.slice(at + 1)}`);
    await assertRefusedAndCleared(browser);
  });

  test('fail-garbage: a cookie that is not a sealed session is anonymous and cleared', async () => {
    const browser = new Browser();
    browser.cookies.set(COOKIE, 'eyJhbGciOiJub25lIn0.e30.');
    await assertRefusedAndCleared(browser);
  });

  test('fail-foreign-key: a cookie sealed under another key is anonymous and cleared', async () => {
    const other = await startFront(fx, { cookieKey: newCookieKey() });
    try {
      const browser = await signedIn();
      await assertRefusedAndCleared(browser, other);
    } finally {
      await other.close();
    }
  });

  test('fail-expired: a cookie past its session lifetime is anonymous and cleared', async () => {
    const browser = await signedIn();
    clock.advance((86400 + 1) * 1000);
    await assertRefusedAndCleared(browser);
  });

  test('fail-wrong-kind: the sign-in cookie (same key) does not pass for a session', async () => {
    const browser = new Browser();
    await browser.fetch(reach(front, '/login'));
    const flow = browser.cookies.get(`${COOKIE}.login`)!;
    browser.cookies.clear();
    browser.cookies.set(COOKIE, flow);
    await assertRefusedAndCleared(browser);
  });

  test('ok: during a key rotation cookies under the old key still work, and new ones use the new key', async () => {
    const newKey = newCookieKey();
    const rotated = await startFront(fx, { cookieKey: [newKey, key], clock });
    const onlyNew = await startFront(fx, { cookieKey: newKey, clock });
    try {
      const browser = await signedIn();
      assert.equal((await api(browser, rotated)).status, 200, 'the old key opens');
      // A refresh re-seals the session under the current (new) key.
      clock.advance((600 - 60 + 1) * 1000);
      const res = await api(browser, rotated);
      assert.equal(res.status, 200);
      assert.equal(setCookies(res, COOKIE).length, 1);
      assert.equal((await api(browser, onlyNew)).status, 200, 'the re-sealed cookie opens with the new key alone');
    } finally {
      await rotated.close();
      await onlyNew.close();
    }
  });

  test('ok: a session too large for one cookie is split into numbered chunks that work, are stripped and are cleared together', async () => {
    const browser = await signedIn(front, 'morgan');
    const parts = [...browser.cookies.keys()].filter((name) => name.startsWith(`${COOKIE}.`) && /\.\d+$/.test(name)).sort();
    assert.deepEqual(parts, [`${COOKIE}.0`, `${COOKIE}.1`]);
    assert.equal(browser.cookies.has(COOKIE), false);
    for (const part of parts) assert.ok(part.length + 1 + browser.cookies.get(part)!.length <= 3800);
    browser.cookies.set('theme', 'dark');
    const res = await api(browser);
    assert.equal(res.status, 200);
    const body = await res.json() as { cookie: string | null };
    assert.doesNotMatch(body.cookie ?? '', /gatehouse_session/);
    assert.match(body.cookie ?? '', /theme=dark/);
    const out = await browser.fetch(reach(front, '/logout'), { method: 'POST', headers: { origin: front.publicUrl } });
    assert.equal(out.status, 303);
    assert.deepEqual(setCookies(out, COOKIE).map((line) => line.split(';')[0]).sort(), [`${COOKIE}.0=`, `${COOKIE}.1=`]);
  });
});
