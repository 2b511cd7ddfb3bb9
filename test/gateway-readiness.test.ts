/**
 * Readiness and the browser sign-in seam: /readyz says "events" while the gateway cannot follow
 * the security-event stream; a session authenticator plugged into the seam yields the token from
 * a cookie, the cookie never reaches the upstream, and browsers without a session are redirected.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, waitFor, type AuthFixture, type RecordingUpstream } from './helpers/gateway.ts';
import type { SessionSupport } from '../src/gateway/index.ts';

let auth: AuthFixture;
let api: RecordingUpstream;

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
});
after(async () => {
  await api?.close();
  await auth?.close();
});

const routes = [
  { methods: ['GET'], path: '/api/me', service: 'api' },
  { methods: ['GET'], path: '/api/open', service: 'api', auth: 'public' },
];

test('fail-events: while the event stream cannot be reached /readyz is 503 naming "events", and tokens still verify', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes, env: { GATEHOUSE_GATEWAY_CLIENT_SECRET: 'wrong-secret' }, waitReady: false });
  try {
    await waitFor(async () => (await fetch(`${gw.url}/api/open`)).status === 200);
    const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
    await waitFor(async () => (await fetch(`${gw.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status === 200);
    const ready = await fetch(`${gw.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'unavailable', notReady: ['events'] });
  } finally {
    await gw.close();
  }
});

test('fail-no-credentials: without gateway.credentials /readyz is 503 naming "events" and a warning is logged', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes, noCredentials: true, waitReady: false });
  try {
    await waitFor(async () => (await (await fetch(`${gw.url}/readyz`)).json() as { notReady?: string[] }).notReady?.join() === 'events');
    assert.ok(gw.logs.some((line) => line.level === 40 && /gateway\.credentials is not set/.test(String(line.msg))));
  } finally {
    await gw.close();
  }
});

/** A stand-in for src/gateway/session/: the cookie `test_session` holds an access token as is. */
const cookieSession = (): SessionSupport => ({
  stripCookie: (cookie) => cookie.split(/;\s*/).filter((pair) => !pair.startsWith('test_session=')).join('; ') || undefined,
  authenticator: {
    name: 'session',
    credential(exchange) {
      if (exchange.head!.authorization !== undefined) return undefined;
      const match = /(?:^|;\s*)test_session=([^;]+)/.exec(exchange.head!.cookie ?? '');
      return match?.[1];
    },
  },
  paths: new Map(),
  loginRedirect: (exchange) => `/login?return_to=${encodeURIComponent(exchange.path + exchange.query)}`,
  discard() {},
});

test('ok: the session seam: a cookie yields the token, the upstream gets Authorization and not the cookie', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes, gateway: { sso: { clientId: 'shop' } }, session: () => cookieSession() });
  try {
    const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
    const response = await fetch(`${gw.url}/api/me`, { headers: { cookie: `theme=dark; test_session=${token}; lang=en` } });
    assert.equal(response.status, 200);
    const received = api.requests.at(-1)!;
    assert.deepEqual(received.header('authorization'), [`Bearer ${token}`]);
    assert.deepEqual(received.header('cookie'), ['theme=dark; lang=en']);
  } finally {
    await gw.close();
  }
});

test('ok: a browser without a session is redirected to sign in; an API client gets 401', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes, gateway: { sso: { clientId: 'shop' } }, session: () => cookieSession() });
  try {
    const browser = await fetch(`${gw.url}/api/me?tab=2`, { headers: { accept: 'text/html,application/xhtml+xml' }, redirect: 'manual' });
    assert.equal(browser.status, 303);
    assert.equal(browser.headers.get('location'), '/login?return_to=%2Fapi%2Fme%3Ftab%3D2');
    const api401 = await fetch(`${gw.url}/api/me`, { headers: { accept: 'application/json' } });
    assert.equal(api401.status, 401);
  } finally {
    await gw.close();
  }
});

test('fail-no-sso: without gateway.sso a browser gets 401 like any client', async () => {
  const gw = await startGateway(auth, { services: { api: [api.url] }, routes, session: () => cookieSession() });
  try {
    const browser = await fetch(`${gw.url}/api/me`, { headers: { accept: 'text/html' }, redirect: 'manual' });
    assert.equal(browser.status, 401);
  } finally {
    await gw.close();
  }
});
