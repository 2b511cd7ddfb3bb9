/**
 * What the browser-session endpoints refuse and how: failed callbacks (forged state, replay,
 * cancel, no sign-in in progress, Security Service down) answer a small escaped HTML page;
 * cookie-authenticated state changes from another origin get 403; nothing secret reaches the log.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../src/shared/logger.ts';
import { Browser, formAction, formField, post } from './oauth/helpers.ts';
import { freePort } from './helpers/service.ts';
import {
  startSsoService, startFront, signInThroughGateway, toCallback, reach, setCookies, openSessionCookie, newCookieKey, type SsoFixture, type Front,
} from './gateway-sso/helpers.ts';

const COOKIE = 'gatehouse_session';

/** The failure page: status, HTML, a "Try again" link to /login, nothing from the request echoed. */
async function assertFailurePage(res: Response, status: number, message: RegExp): Promise<string> {
  assert.equal(res.status, status);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const html = await res.text();
  assert.match(html, message);
  assert.match(html, /<a href="\/login\?return_to=[^"]*">Try again<\/a>/);
  assert.doesNotMatch(html, /at .*\.ts:\d+|Error:|eyJ/);
  assert.equal(setCookies(res, COOKIE).length, 0, 'no session cookie');
  return html;
}

describe('gateway browser-session refusals', () => {
  let fx: SsoFixture;
  let front: Front;
  const lines: string[] = [];
  const key = newCookieKey();

  before(async () => {
    const port = await freePort();
    fx = await startSsoService([`http://127.0.0.1:${port}`]);
    const logger = createLogger({ level: 'trace', destination: { write: (line: string) => { lines.push(line); } } });
    front = await startFront(fx, { port, logger, cookieKey: key });
  });
  after(async () => {
    await front.close();
    await fx.close();
  });

  test('fail-bad-state: a callback whose state is not the one of this browser\'s sign-in → 400 page', async () => {
    const browser = new Browser();
    const callback = await toCallback(browser, front, fx.issuer);
    callback.searchParams.set('state', 'forged-state-value');
    const res = await browser.fetch(reach(front, callback.href));
    await assertFailurePage(res, 400, /could not be completed/);
    assert.ok(res.headers.getSetCookie().some((line) => /^gatehouse_session\.login=; Path=\/login; Max-Age=0/.test(line)), 'the sign-in cookie is spent');
  });

  test('fail-replayed-callback: the same callback a second time → 400 page (the sign-in cookie is spent)', async () => {
    const browser = new Browser();
    const callback = await toCallback(browser, front, fx.issuer);
    const flow = browser.cookies.get(`${COOKIE}.login`)!;
    assert.equal((await browser.fetch(reach(front, callback.href))).status, 303);
    await assertFailurePage(await browser.fetch(reach(front, callback.href)), 400, /expired or was started in another window/);
    // Even with the sign-in cookie kept by an attacker, the code works once.
    const replay = new Browser();
    replay.cookies.set(`${COOKIE}.login`, flow);
    await assertFailurePage(await replay.fetch(reach(front, callback.href)), 400, /could not be completed/);
  });

  test('ok: the cancel button on the sign-in form → a page that says the person cancelled, not a failure', async () => {
    const browser = new Browser();
    const start = await browser.fetch(reach(front, '/login'));
    const form = await browser.follow(start.headers.get('location')!, fx.issuer);
    const html = await form.res.text();
    const cancelled = await post(browser, new URL(formAction(html, '/abort'), fx.issuer).href, { csrf: formField(html, 'csrf') });
    const back = await browser.follow(new URL(cancelled.headers.get('location')!, fx.issuer).href, fx.issuer);
    assert.equal(new URL(back.url).searchParams.get('error'), 'access_denied');
    const page = await browser.fetch(reach(front, back.url));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const shown = await page.text();
    assert.match(shown, /<h1>Sign-in cancelled<\/h1>[\s\S]*You cancelled the sign-in/);
    assert.doesNotMatch(shown, /failed|access_denied/i);
    assert.match(shown, /<a href="\/login\?return_to=[^"]*">Sign in<\/a>/);
    assert.equal(setCookies(page, COOKIE).length, 0, 'no session cookie');
  });

  test('fail-no-sign-in: a callback without a sign-in in progress → 400 page; nothing from the query is echoed', async () => {
    const res = await new Browser().fetch(reach(front, '/login/callback?code=abc&state=<script>alert(1)</script>&error_description=<b>x</b>'));
    const html = await assertFailurePage(res, 400, /expired or was started in another window/);
    assert.doesNotMatch(html, /<script>|<b>/);
  });

  test('fail-cross-origin: a cookie-authenticated POST from another origin → 403; from this origin → allowed', async () => {
    const browser = new Browser();
    assert.equal((await signInThroughGateway(browser, front, fx.issuer)).status, 303);
    const send = (headers: Record<string, string>) => browser.fetch(reach(front, '/api/orders'), { method: 'POST', headers });
    assert.equal((await send({ origin: 'https://evil.example' })).status, 403);
    assert.equal((await send({ 'sec-fetch-site': 'cross-site', origin: front.publicUrl })).status, 403);
    assert.equal((await send({})).status, 403, 'neither Origin nor Sec-Fetch-Site');
    assert.equal((await send({ 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await send({ origin: front.publicUrl })).status, 200);
  });

  test('ok: a bearer-authenticated POST is not subject to the same-origin check', async () => {
    const browser = new Browser();
    await signInThroughGateway(browser, front, fx.issuer);
    const token = String((await openSessionCookie(browser.cookies.get(COOKIE)!, key)).at);
    const res = await fetch(reach(front, '/api/orders'), { method: 'POST', headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { via: string }).via, 'bearer');
  });

  test('fail-method: PUT /login → 405 with Allow', async () => {
    const res = await fetch(reach(front, '/login'), { method: 'PUT' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
    assert.equal(((await res.json()) as { code: string }).code, 'method_not_allowed');
  });

  test('ok: no token, code, cookie or client secret reaches the log (trace level)', async () => {
    const browser = new Browser();
    const callback = await toCallback(browser, front, fx.issuer);
    await browser.fetch(reach(front, callback.href));
    const session = await openSessionCookie(browser.cookies.get(COOKIE)!, key);
    await browser.fetch(reach(front, '/api/me'));
    await browser.fetch(reach(front, callback.href)); // a failed replay logs too
    await browser.fetch(reach(front, '/logout'), { method: 'POST', headers: { origin: front.publicUrl } });
    const log = lines.join('\n');
    assert.match(log, /browser session started/);
    const secrets: Record<string, string> = {
      code: callback.searchParams.get('code')!,
      'access token': String(session.at),
      'refresh token': String(session.rt),
      'id token': String(session.it),
      'client secret': fx.secret,
    };
    for (const [what, value] of Object.entries(secrets)) assert.ok(!log.includes(value), `${what} in the log`);
    for (const value of browser.cookies.values()) assert.ok(!log.includes(value), 'a cookie in the log');
  });
});

describe('gateway browser sessions with the Security Service down', () => {
  test('fail-unavailable: a callback the Security Service cannot complete → 502 page; /login → 502 page', async () => {
    const port = await freePort();
    const fx = await startSsoService([`http://127.0.0.1:${port}`]);
    const front = await startFront(fx, { port });
    const fresh = await startFront(fx, {});
    try {
      const browser = new Browser();
      const callback = await toCallback(browser, front, fx.issuer);
      await fx.close();
      await assertFailurePage(await browser.fetch(reach(front, callback.href)), 502, /unavailable/);
      await assertFailurePage(await new Browser().fetch(reach(fresh, '/login?return_to=/api/books')), 502, /unavailable/);
    } finally {
      await front.close();
      await fresh.close();
    }
  });
});
