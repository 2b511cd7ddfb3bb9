/**
 * Authorization at the gateway over real HTTP: permissions under the published policy
 * (wildcards, `:own`), roles, scopes (403 insufficient_scope), owner, allowFrom (with and
 * without a trusted proxy) and rate limits (429 + Retry-After, per client address and per caller).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';

let auth: AuthFixture;
let api: RecordingUpstream;
let gw: GatewayFixture;
const tokens: Record<'alice' | 'bob' | 'carol', string> = { alice: '', bob: '', carol: '' };

const ROUTES = [
  { methods: ['POST'], path: '/api/orders', service: 'api', permissions: ['orders:create'] },
  { methods: ['GET'], path: '/api/orders', service: 'api', permissions: ['orders:read'] },
  { methods: ['GET'], path: '/api/users/:userId/orders', service: 'api', permissions: ['orders:read'], owner: 'params.userId' },
  { methods: ['GET'], path: '/api/users/:userId/profile', service: 'api', owner: 'params.userId' },
  { methods: ['GET'], path: '/api/admin/stats', service: 'api', roles: ['admin'] },
  { methods: ['GET'], path: '/api/catalog', service: 'api', scopes: ['books:read'] },
  { methods: ['GET'], path: '/api/internal', service: 'api', auth: 'public', allowFrom: ['10.0.0.0/8'] },
  { methods: ['GET'], path: '/api/local', service: 'api', auth: 'public', allowFrom: ['127.0.0.0/8', '::1/128'] },
  { methods: ['GET'], path: '/api/limited', service: 'api', auth: 'public', rateLimit: { requests: 3, per: '1m' } },
  { methods: ['GET'], path: '/api/limited-callers', service: 'api', rateLimit: { requests: 2, per: '1m' } },
];

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
  gw = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES });
  tokens.alice = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  tokens.bob = await auth.token({ sub: auth.users.bob, roles: ['staff'] });
  tokens.carol = await auth.token({ sub: auth.users.carol, roles: ['admin'] });
});
after(async () => {
  await gw?.close();
  await api?.close();
  await auth?.close();
});

const call = (url: string, path: string, options: { as?: string; method?: string; headers?: Record<string, string> } = {}) =>
  fetch(`${url}${path}`, { method: options.method ?? 'GET', headers: { ...(options.as ? { authorization: `Bearer ${options.as}` } : {}), ...options.headers } });

const codeOf = async (response: Response) => (await response.json() as { code: string }).code;

describe('permissions', () => {
  test('ok: a role that grants the permission passes (customer → orders:create)', async () => {
    assert.equal((await call(gw.url, '/api/orders', { as: tokens.alice, method: 'POST' })).status, 200);
  });

  test('fail-not-granted: a role without the permission is 403 forbidden (staff → orders:create)', async () => {
    const response = await call(gw.url, '/api/orders', { as: tokens.bob, method: 'POST' });
    assert.equal(response.status, 403);
    assert.equal(await codeOf(response), 'forbidden');
    assert.equal(response.headers.get('www-authenticate'), null);
  });

  test('ok: a wildcard grant covers the permission (admin holds *)', async () => {
    assert.equal((await call(gw.url, '/api/orders', { as: tokens.carol, method: 'POST' })).status, 200);
  });

  test('fail-own-only: orders:read:own does not pass a route that needs orders:read without an owner', async () => {
    assert.equal((await call(gw.url, '/api/orders', { as: tokens.alice })).status, 403);
    assert.equal((await call(gw.url, '/api/orders', { as: tokens.bob })).status, 200);
  });
});

describe('owner', () => {
  test('ok: the owner passes with orders:read:own', async () => {
    assert.equal((await call(gw.url, `/api/users/${auth.users.alice}/orders`, { as: tokens.alice })).status, 200);
  });

  test('fail-not-owner: another user\'s resource is 403 with only orders:read:own', async () => {
    const response = await call(gw.url, `/api/users/${auth.users.bob}/orders`, { as: tokens.alice });
    assert.equal(response.status, 403);
    assert.equal(await codeOf(response), 'forbidden');
  });

  test('ok: orders:read (the "any" form) passes for every owner', async () => {
    assert.equal((await call(gw.url, `/api/users/${auth.users.alice}/orders`, { as: tokens.bob })).status, 200);
  });

  test('ok: a route with owner and no permissions admits the owner', async () => {
    assert.equal((await call(gw.url, `/api/users/${auth.users.bob}/profile`, { as: tokens.bob })).status, 200);
  });

  test('fail-not-owner: a route with owner and no permissions admits only the owner, even an admin', async () => {
    assert.equal((await call(gw.url, `/api/users/${auth.users.bob}/profile`, { as: tokens.carol })).status, 403);
  });
});

describe('roles and scopes', () => {
  test('fail-role: a caller without any of the roles is 403 forbidden', async () => {
    const response = await call(gw.url, '/api/admin/stats', { as: tokens.bob });
    assert.equal(response.status, 403);
    assert.equal(await codeOf(response), 'forbidden');
    assert.equal((await call(gw.url, '/api/admin/stats', { as: tokens.carol })).status, 200);
  });

  test('fail-scope: a token without the scope is 403 insufficient_scope naming the scope', async () => {
    const response = await call(gw.url, '/api/catalog', { as: tokens.alice });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="insufficient_scope", scope="books:read"');
    assert.equal(await codeOf(response), 'insufficient_scope');
  });

  test('ok: a token with the scope passes', async () => {
    const scoped = await auth.token({ sub: auth.users.alice, roles: ['customer'], scope: 'openid books:read' });
    assert.equal((await call(gw.url, '/api/catalog', { as: scoped })).status, 200);
  });
});

describe('allowFrom', () => {
  test('fail-address: a client outside the CIDR blocks is 403, never forwarded', async () => {
    const before = api.requests.length;
    const response = await call(gw.url, '/api/internal');
    assert.equal(response.status, 403);
    assert.equal(api.requests.length, before);
  });

  test('ok: a client inside the CIDR blocks passes', async () => {
    assert.equal((await call(gw.url, '/api/local')).status, 200);
  });

  test('fail-forged-forwarded-for: X-Forwarded-For from an untrusted peer is ignored', async () => {
    assert.equal((await call(gw.url, '/api/internal', { headers: { 'x-forwarded-for': '10.1.2.3' } })).status, 403);
  });

  test('ok: behind a trusted proxy the client is the right-most untrusted X-Forwarded-For hop', async () => {
    const proxied = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, gateway: { trustedProxies: ['127.0.0.1/32'] } });
    try {
      assert.equal((await call(proxied.url, '/api/internal', { headers: { 'x-forwarded-for': '10.1.2.3' } })).status, 200);
      // the client wrote 10.9.9.9; the proxy appended the real client 192.0.2.7
      assert.equal((await call(proxied.url, '/api/internal', { headers: { 'x-forwarded-for': '10.9.9.9, 192.0.2.7' } })).status, 403);
    } finally {
      await proxied.close();
    }
  });
});

describe('rate limits', () => {
  test('fail-rate-limited: past the limit per client address: 429 with Retry-After', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await call(gw.url, '/api/limited')).status, 200);
    const response = await call(gw.url, '/api/limited');
    assert.equal(response.status, 429);
    assert.equal(await codeOf(response), 'too_many_requests');
    const wait = Number(response.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
  });

  test('ok: limits are per caller and per address: another caller and another /64 still pass', async () => {
    const proxied = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, gateway: { trustedProxies: ['127.0.0.1/32'] } });
    try {
      const from = (ip: string, token: string) => call(proxied.url, '/api/limited-callers', { as: token, headers: { 'x-forwarded-for': ip } });
      assert.equal((await from('203.0.113.1', tokens.alice)).status, 200);
      assert.equal((await from('203.0.113.2', tokens.alice)).status, 200);
      assert.equal((await from('203.0.113.3', tokens.alice)).status, 429, 'alice used up her limit from any address');
      assert.equal((await from('203.0.113.4', tokens.bob)).status, 200, 'bob has his own');
      assert.equal((await from('2001:db8:1:2::1', tokens.carol)).status, 200);
      assert.equal((await from('2001:db8:1:2::99', tokens.bob)).status, 200);
      assert.equal((await from('2001:db8:1:2:ffff::5', tokens.carol)).status, 429, 'one IPv6 /64 is one address bucket');
    } finally {
      await proxied.close();
    }
  });
});
