/**
 * Browser single sign-on against a real Security Service: sign-in through its form, the session
 * cookie, the access token it yields, refresh before expiry, logout, and where back-channel calls
 * go. (Cookie integrity: gateway-sso-cookies.test.ts; callback failures and CSRF:
 * gateway-sso-refusals.test.ts; through the real gateway: gateway-sso-gateway.test.ts.)
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { frozenClock } from '../src/shared/clock.ts';
import { Browser, formAction, post, basic, tokenRequest } from './oauth/helpers.ts';
import { freePort } from './helpers/service.ts';
import {
  startSsoService, startFront, startForwarder, signInThroughGateway, toCallback, reach, setCookies, verifyAccessToken, openSessionCookie, newCookieKey,
  SSO_CLIENT, type SsoFixture, type Front,
} from './gateway-sso/helpers.ts';

const COOKIE = 'gatehouse_session';
const TTL = 600; // tokens.accessTokenTtl of the Security Service (default)
const REFRESH_BEFORE = 60; // gateway.sso.refreshBefore (default)

describe('gateway browser sessions', () => {
  let fx: SsoFixture;
  let front: Front;
  const clock = frozenClock(Date.now());
  const key = newCookieKey();
  let port: number;

  before(async () => {
    port = await freePort();
    fx = await startSsoService([`http://127.0.0.1:${port}`]);
    front = await startFront(fx, { port, clock, cookieKey: key });
  });
  after(async () => {
    await front.close();
    await fx.close();
  });

  async function signedIn(): Promise<Browser> {
    clock.set(Date.now());
    const browser = new Browser();
    const res = await signInThroughGateway(browser, front, fx.issuer);
    assert.equal(res.status, 303);
    assert.ok(browser.cookies.get(COOKIE), 'session cookie set');
    return browser;
  }
  const api = (browser: Browser, init: RequestInit = {}) => browser.fetch(reach(front, '/api/me'), init);
  const claims = (browser: Browser) => openSessionCookie(browser.cookies.get(COOKIE)!, key);

  test('ok: /login sends the browser to the authorization endpoint with PKCE S256, state, nonce and the gateway audience', async () => {
    const res = await new Browser().fetch(reach(front, '/login?return_to=/api/books'));
    assert.equal(res.status, 303);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${fx.issuer}/oauth2/authorize`);
    const params = location.searchParams;
    assert.equal(params.get('client_id'), SSO_CLIENT);
    assert.equal(params.get('redirect_uri'), `${front.publicUrl}/login/callback`);
    assert.equal(params.get('code_challenge_method'), 'S256');
    assert.ok(params.get('code_challenge') && params.get('state') && params.get('nonce'));
    assert.equal(params.get('resource'), fx.audience);
    const [flow] = setCookies(res, `${COOKIE}.login`);
    assert.match(flow!, /; Path=\/login; Max-Age=600; HttpOnly; SameSite=Lax$/);
  });

  test('ok: sign-in through the Security Service form sets an HttpOnly SameSite=Lax session cookie and returns to return_to', async () => {
    const browser = new Browser();
    const res = await signInThroughGateway(browser, front, fx.issuer, '/login?return_to=%2Fapi%2Fbooks%3Fpage%3D2');
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), '/api/books?page=2');
    const [line] = setCookies(res, COOKIE);
    const match = /^gatehouse_session=[^;]+; Path=\/; Max-Age=(\d+); HttpOnly; SameSite=Lax$/.exec(line!);
    assert.ok(match, line);
    assert.ok(Number(match[1]) > 86400 - 10 && Number(match[1]) <= 86400, 'Max-Age = sessionTtl');
    assert.ok(res.headers.getSetCookie().some((l) => /^gatehouse_session\.login=; Path=\/login; Max-Age=0/.test(l)), 'sign-in cookie cleared');
  });

  test('ok: the session cookie yields an access token for the gateway audience that verifies', async () => {
    const browser = await signedIn();
    const res = await api(browser);
    assert.equal(res.status, 200);
    const body = await res.json() as { token: string; via: string };
    assert.equal(body.via, 'cookie');
    const payload = await verifyAccessToken(body.token, fx);
    assert.equal(payload.sub, (await fx.svc.service.context.users.find('alice')).id);
    assert.equal(payload.client_id, SSO_CLIENT);
    assert.equal(res.headers.getSetCookie().length, 0, 'a fresh session is not rewritten');
  });

  test('ok: the session cookie is stripped from the Cookie header forwarded upstream; other cookies stay', async () => {
    const browser = await signedIn();
    browser.cookies.set('theme', 'dark');
    const body = await (await api(browser)).json() as { cookie: string | null };
    assert.ok(body.cookie?.includes('theme=dark'));
    assert.doesNotMatch(body.cookie!, /gatehouse_session/);
  });

  test('ok: without a session a browser is sent to /login with its path; other clients get 401', async () => {
    const browser = new Browser();
    const html = await browser.fetch(reach(front, '/api/orders?status=open'), { headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(html.status, 303);
    assert.equal(html.headers.get('location'), `/login?${new URLSearchParams({ return_to: '/api/orders?status=open' })}`);
    const json = await browser.fetch(reach(front, '/api/orders'), { headers: { accept: 'application/json' } });
    assert.equal(json.status, 401);
  });

  test('ok: the access token is refreshed when it expires within refreshBefore, and the new cookie is set', async () => {
    const browser = await signedIn();
    const first = await (await api(browser)).json() as { token: string };
    clock.advance((TTL - REFRESH_BEFORE + 1) * 1000);
    const res = await api(browser);
    const second = await res.json() as { token: string };
    assert.notEqual(second.token, first.token);
    await verifyAccessToken(second.token, fx);
    assert.equal(setCookies(res, COOKIE).length, 1, 'the refreshed session is written back');
    assert.ok(Number((await claims(browser)).atx) > clock.now() / 1000 + REFRESH_BEFORE);
    // The refreshed cookie serves later requests as it is.
    const third = await (await api(browser)).json() as { token: string };
    assert.equal(third.token, second.token);
  });

  test('ok: concurrent requests with an expiring cookie refresh once; a late request with the old cookie gets the new token', async () => {
    const browser = await signedIn();
    const old = browser.cookies.get(COOKIE)!;
    clock.advance((TTL - REFRESH_BEFORE + 1) * 1000);
    const tokens = await Promise.all(Array.from({ length: 5 }, async () => ((await api(browser)).json() as Promise<{ token: string }>)));
    assert.equal(new Set(tokens.map((t) => t.token)).size, 1, 'one refresh, shared');
    const late = new Browser();
    late.cookies.set(COOKIE, old);
    assert.equal(((await (await api(late)).json()) as { token: string }).token, tokens[0]!.token);
    // The grant is intact (no refresh-token reuse was detected): the next refresh works.
    clock.advance((TTL - REFRESH_BEFORE + 1) * 1000);
    const next = await api(browser);
    assert.equal(next.status, 200);
    assert.notEqual(((await next.json()) as { token: string }).token, tokens[0]!.token);
  });

  test('fail-refresh-refused: when the grant was revoked the session ends: cookie cleared, request anonymous', async () => {
    const browser = await signedIn();
    const revoked = await fetch(`${fx.issuer}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(SSO_CLIENT, fx.secret) },
      body: new URLSearchParams({ token: String((await claims(browser)).rt), token_type_hint: 'refresh_token' }),
    });
    assert.equal(revoked.status, 200);
    clock.advance((TTL - REFRESH_BEFORE + 1) * 1000);
    const res = await api(browser, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 401);
    assert.match(setCookies(res, COOKIE)[0]!, /^gatehouse_session=; Path=\/; Max-Age=0/);
    assert.equal(browser.cookies.has(COOKIE), false);
  });

  test('ok: POST /logout clears the cookie, revokes the refresh token and ends the Security Service session', async () => {
    const browser = await signedIn();
    const { rt } = await claims(browser);
    const res = await browser.fetch(reach(front, '/logout'), { method: 'POST', headers: { origin: front.publicUrl } });
    assert.equal(res.status, 303);
    assert.match(setCookies(res, COOKIE)[0]!, /^gatehouse_session=; Path=\/; Max-Age=0/);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${fx.issuer}/oauth2/logout`);
    assert.ok(location.searchParams.get('id_token_hint'));
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${front.publicUrl}/`);
    const refused = await tokenRequest(fx.issuer, { grant_type: 'refresh_token', refresh_token: String(rt) }, basic(SSO_CLIENT, fx.secret));
    assert.equal(((await refused.json()) as { error: string }).error, 'invalid_grant', 'the refresh token is revoked');
    // The user confirms at the Security Service and lands on the gateway's post-logout page.
    const page = await browser.fetch(location.href);
    const html = await page.text();
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)![1]!;
    const done = await post(browser, new URL(formAction(html, '/logout'), fx.issuer).href, { xsrf, logout: 'yes' });
    assert.equal(done.status, 303);
    assert.equal(done.headers.get('location'), `${front.publicUrl}/`);
    // The SSO session is gone: signing in again asks for the password.
    const again = await browser.fetch(reach(front, '/login'));
    const form = await browser.follow(again.headers.get('location')!, fx.issuer);
    assert.match(await form.res.text(), /name="password"/);
  });

  test('ok: GET /logout from a link on this origin signs out', async () => {
    const browser = await signedIn();
    const res = await browser.fetch(reach(front, '/logout'), { headers: { 'sec-fetch-site': 'same-origin' } });
    assert.equal(res.status, 303);
    assert.equal(browser.cookies.has(COOKIE), false);
  });

  test('fail-cross-site-logout: GET /logout from another site only shows a sign-out button; the session stays', async () => {
    const browser = await signedIn();
    const res = await browser.fetch(reach(front, '/logout'), { headers: { 'sec-fetch-site': 'cross-site' } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<form method="post" action="\/logout">/);
    assert.equal(res.headers.getSetCookie().length, 0);
    assert.equal((await api(browser)).status, 200);
  });

  test('fail-cross-origin-logout: POST /logout from another origin is 403 and the session stays', async () => {
    const browser = await signedIn();
    const res = await browser.fetch(reach(front, '/logout'), { method: 'POST', headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'forbidden');
    assert.equal((await api(browser)).status, 200);
  });

  for (const target of ['//evil.example/x', '/\\evil.example', 'https://evil.example/', '/..//evil.example']) {
    test(`fail-open-redirect: return_to=${target} returns to /`, async () => {
      const res = await signInThroughGateway(new Browser(), front, fx.issuer, `/login?${new URLSearchParams({ return_to: target })}`);
      assert.equal(res.status, 303);
      assert.equal(res.headers.get('location'), '/');
    });
  }
});

test('ok: back-channel calls go to gateway.securityService; the browser is sent to the public issuer', async () => {
  const port = await freePort();
  const fx = await startSsoService([`http://127.0.0.1:${port}`]);
  const forwarder = await startForwarder(fx.issuer);
  const front = await startFront(fx, { port, gateway: { securityService: forwarder.url } });
  try {
    const browser = new Browser();
    const callback = await toCallback(browser, front, fx.issuer);
    assert.equal(forwarder.paths.includes('/oauth2/authorize'), false, 'the browser went to the public issuer');
    const res = await browser.fetch(reach(front, callback.href));
    assert.equal(res.status, 303);
    assert.ok(browser.cookies.get(COOKIE));
    for (const path of ['/.well-known/openid-configuration', '/oauth2/token', '/.well-known/jwks.json']) {
      assert.ok(forwarder.paths.includes(path), `${path} went through the internal address`);
    }
    const body = await (await browser.fetch(reach(front, '/api/me'))).json() as { token: string };
    assert.equal((await verifyAccessToken(body.token, fx)).iss, fx.issuer);
  } finally {
    await front.close();
    await forwarder.close();
    await fx.close();
  }
});
