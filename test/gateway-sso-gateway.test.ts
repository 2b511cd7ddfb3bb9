/**
 * Browser sessions through the real gateway (createGateway, configured from a gatehouse.yaml with
 * `gateway.sso`) in front of a recording upstream and a real Security Service: the redirect to
 * sign-in, the cookie authenticating requests, what the upstream receives, the same-origin rule,
 * a refreshed cookie on a relayed response, and logout.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Browser } from './oauth/helpers.ts';
import { freePort } from './helpers/service.ts';
import { startAuth, startGateway, startRecordingUpstream, waitFor, PASSWORD, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { signInThroughGateway, reach, setCookies, SSO_CLIENT, type Origin } from './gateway-sso/helpers.ts';

const COOKIE = 'gatehouse_session';

const ROUTES = [
  { methods: ['GET', 'POST', 'DELETE'], path: '/api/**', service: 'app' },
  { methods: ['GET'], path: '/pub/**', service: 'app', auth: 'public' },
];

describe('browser sessions through the gateway', () => {
  let auth: AuthFixture;
  let upstream: RecordingUpstream;
  let gw: GatewayFixture;
  let refreshing: GatewayFixture;
  let origin: Origin;
  let refreshingOrigin: Origin;

  async function gatewayWithSso(port: number, secret: string, sso: Record<string, unknown> = {}): Promise<GatewayFixture> {
    return startGateway(auth, {
      services: { app: [upstream.url] },
      routes: ROUTES,
      gateway: { listen: { host: '127.0.0.1', port }, publicUrl: `http://127.0.0.1:${port}`, sso: { clientId: SSO_CLIENT, ...sso } },
      env: { GATEHOUSE_GATEWAY_SSO_SECRET: secret, GATEHOUSE_GATEWAY_COOKIE_KEY: randomBytes(32).toString('base64') },
    });
  }

  before(async () => {
    auth = await startAuth();
    upstream = await startRecordingUpstream();
    const [port, refreshingPort] = [await freePort(), await freePort()];
    const ssoClient = (clientId: string, at: number, extra: { accessTokenTtl?: number } = {}) => auth.svc.service.context.oauth.clients.create({
      clientId,
      name: 'Gateway',
      firstParty: true,
      redirectUris: [`http://127.0.0.1:${at}/login/callback`],
      postLogoutRedirectUris: [`http://127.0.0.1:${at}/`],
      grantTypes: ['authorization_code', 'refresh_token'],
      scope: 'openid profile email offline_access',
      ...extra,
    }, 'test');
    gw = await gatewayWithSso(port, (await ssoClient(SSO_CLIENT, port)).secret!);
    // Access tokens of 30 s, refreshed within refreshBefore (60 s) of expiry: every request refreshes.
    const short = await ssoClient('gateway-web-short', refreshingPort, { accessTokenTtl: 30 });
    refreshing = await gatewayWithSso(refreshingPort, short.secret!, { clientId: 'gateway-web-short' });
    origin = { url: gw.url, publicUrl: gw.url };
    refreshingOrigin = { url: refreshing.url, publicUrl: refreshing.url };
  });
  after(async () => {
    await gw.close();
    await refreshing.close();
    await upstream.close();
    await auth.close();
  });

  async function signedIn(on: Origin = origin): Promise<Browser> {
    const browser = new Browser();
    const res = await signInThroughGateway(browser, on, auth.issuer);
    assert.equal(res.status, 303);
    assert.ok(browser.cookies.get(COOKIE));
    return browser;
  }
  const lastUpstreamRequest = () => upstream.requests.at(-1)!;

  test('ok: a browser GET on a protected route without a session is sent (303) to /login?return_to=…; an API client gets 401', async () => {
    const html = await fetch(`${gw.url}/api/orders?status=open`, { headers: { accept: 'text/html,*/*;q=0.8' }, redirect: 'manual' });
    assert.equal(html.status, 303);
    assert.equal(html.headers.get('location'), `/login?${new URLSearchParams({ return_to: '/api/orders?status=open' })}`);
    const api = await fetch(`${gw.url}/api/orders`, { headers: { accept: 'application/json' } });
    assert.equal(api.status, 401);
    assert.match(api.headers.get('www-authenticate') ?? '', /^Bearer/);
  });

  test('ok: after sign-in the cookie authenticates; the upstream gets Authorization: Bearer <access token> and no session cookie', async () => {
    const browser = new Browser();
    const start = await browser.fetch(`${gw.url}/api/orders?status=open`, { headers: { accept: 'text/html' } });
    const back = await signInThroughGateway(browser, origin, auth.issuer, start.headers.get('location')!);
    assert.equal(back.headers.get('location'), '/api/orders?status=open');
    browser.cookies.set('theme', 'dark');
    const before = upstream.requests.length;
    const res = await browser.fetch(reach(origin, back.headers.get('location')!), { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.length, before + 1);
    const seen = lastUpstreamRequest();
    assert.equal(seen.target, '/api/orders?status=open');
    const [authorization] = seen.header('authorization');
    assert.match(authorization!, /^Bearer eyJ/);
    const claims = JSON.parse(Buffer.from(authorization!.slice(7).split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.sub, auth.users.alice);
    assert.equal(claims.aud, auth.audience);
    const cookie = seen.header('cookie').join('; ');
    assert.match(cookie, /theme=dark/);
    assert.doesNotMatch(cookie, /gatehouse_session/);
  });

  test('fail-cross-origin: a cookie-authenticated POST from another origin → 403 and nothing reaches the upstream', async () => {
    const browser = await signedIn();
    const before = upstream.requests.length;
    const res = await browser.fetch(`${gw.url}/api/orders`, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { code: string }).code, 'forbidden');
    const bare = await browser.fetch(`${gw.url}/api/orders`, { method: 'DELETE' });
    assert.equal(bare.status, 403, 'neither Origin nor Sec-Fetch-Site');
    assert.equal(upstream.requests.length, before);
    assert.ok(gw.logs.some((line) => line.decision === 'cross_origin' && line.status === 403), 'access log names the refusal');
  });

  test('ok: a cookie-authenticated POST from this origin reaches the upstream', async () => {
    const browser = await signedIn();
    const res = await browser.fetch(`${gw.url}/api/orders`, { method: 'POST', headers: { 'sec-fetch-site': 'same-origin', origin: gw.url, 'content-type': 'application/json' }, body: '{"book":1}' });
    assert.equal(res.status, 200);
    assert.equal(lastUpstreamRequest().body.toString(), '{"book":1}');
  });

  test('ok: a bearer-authenticated POST is not subject to the same-origin check', async () => {
    const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
    const res = await fetch(`${gw.url}/api/orders`, { method: 'POST', headers: { authorization: `Bearer ${token}`, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' } });
    assert.equal(res.status, 200);
  });

  test('ok: a public route forwards without a token and without the session cookie', async () => {
    const browser = await signedIn();
    browser.cookies.set('theme', 'dark');
    assert.equal((await browser.fetch(`${gw.url}/pub/books`)).status, 200);
    const seen = lastUpstreamRequest();
    assert.deepEqual(seen.header('authorization'), []);
    assert.doesNotMatch(seen.header('cookie').join('; '), /gatehouse_session/);
  });

  test('fail-bad-cookie: a browser with a cookie that does not decrypt is sent to /login and the cookie is cleared', async () => {
    const browser = new Browser();
    browser.cookies.set(COOKIE, 'not-a-session');
    const res = await browser.fetch(`${gw.url}/api/orders`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /^\/login\?return_to=/);
    assert.match(setCookies(res, COOKIE)[0]!, /^gatehouse_session=; Path=\/; Max-Age=0/);
  });

  test('ok: a refreshed session cookie (30 s access tokens) rides on the relayed response beside the upstream\'s own cookie, never cached', async () => {
    const browser = await signedIn(refreshingOrigin);
    const first = browser.cookies.get(COOKIE);
    upstream.respond = () => ({ status: 200, headers: { 'content-type': 'application/json', 'set-cookie': 'cart=3; Path=/', 'cache-control': 'public, max-age=600' }, body: '{}' });
    try {
      const res = await browser.fetch(`${refreshing.url}/api/orders`);
      assert.equal(res.status, 200);
      assert.equal(setCookies(res, COOKIE).length, 1, 'the refreshed session cookie');
      assert.ok(res.headers.getSetCookie().includes('cart=3; Path=/'), 'the upstream\'s cookie');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.notEqual(browser.cookies.get(COOKIE), first);
      const [authorization] = lastUpstreamRequest().header('authorization');
      const claims = JSON.parse(Buffer.from(authorization!.slice(7).split('.')[1]!, 'base64url').toString()) as { iat: number; exp: number };
      assert.equal(claims.exp - claims.iat, 30, 'the short-lived client\'s token');
    } finally {
      upstream.respond = () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}' });
    }
  });

  test('fail-revoked: when the Security Service revokes the session\'s token (user disabled) a browser is sent to sign in and the cookie is cleared', async () => {
    await auth.svc.service.context.users.create({ username: 'dana', email: 'dana@example.com', password: PASSWORD, roles: ['customer'] }, 'test');
    const browser = new Browser();
    assert.equal((await signInThroughGateway(browser, origin, auth.issuer, '/login', 'dana')).status, 303);
    assert.equal((await browser.fetch(`${gw.url}/api/orders`)).status, 200);
    await auth.svc.service.context.users.disable('dana', 'test');
    let res: Response | undefined;
    await waitFor(async () => {
      res = await browser.fetch(`${gw.url}/api/orders`, { headers: { accept: 'text/html' } });
      return res.status !== 200;
    }, 5000, 'the revocation never reached the gateway');
    assert.equal(res!.status, 303);
    assert.match(res!.headers.get('location')!, /^\/login\?return_to=/);
    assert.match(setCookies(res!, COOKIE)[0]!, /^gatehouse_session=; Path=\/; Max-Age=0/);
    assert.equal(browser.cookies.has(COOKIE), false);
  });

  test('ok: POST /logout through the gateway clears the cookie and sends the browser to the end-session endpoint', async () => {
    const browser = await signedIn();
    const res = await browser.fetch(`${gw.url}/logout`, { method: 'POST', headers: { origin: gw.url, 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    assert.equal(res.status, 303);
    assert.ok(res.headers.get('location')!.startsWith(`${auth.issuer}/oauth2/logout?`));
    assert.equal(browser.cookies.has(COOKIE), false);
    const after = await browser.fetch(`${gw.url}/api/orders`, { headers: { accept: 'application/json' } });
    assert.equal(after.status, 401);
  });

  test('ok: the gateway never logs a token, a code or a cookie', async () => {
    const browser = await signedIn();
    await browser.fetch(`${gw.url}/api/orders`);
    const text = gw.logText();
    assert.match(text, /browser session started/);
    const sent = lastUpstreamRequest().header('authorization')[0]!.slice(7);
    assert.ok(!text.includes(sent), 'access token in the log');
    for (const value of browser.cookies.values()) assert.ok(!text.includes(value), 'a cookie in the log');
  });
});
