/**
 * Scope-bound access tokens (`"scope_bound": true`) at the gateway over real HTTP: the route's
 * permissions are decided on roles ∩ scopes, so a customer's token with scope `orders:read`
 * reads her own orders through an `owner:` route and nothing else.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';

let auth: AuthFixture;
let api: RecordingUpstream;
let gw: GatewayFixture;
let bound: string;
let unbound: string;

const ROUTES = [
  { methods: ['POST'], path: '/api/orders', service: 'api', permissions: ['orders:create'] },
  { methods: ['GET'], path: '/api/users/:userId/orders', service: 'api', permissions: ['orders:read'], owner: 'params.userId' },
];

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
  gw = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES });
  bound = await auth.token({ sub: auth.users.alice, roles: ['customer'], scope: 'orders:read', extra: { scope_bound: true } });
  unbound = await auth.token({ sub: auth.users.alice, roles: ['customer'], scope: 'orders:read' });
});
after(async () => {
  await gw?.close();
  await api?.close();
  await auth?.close();
});

const call = (path: string, token: string, method = 'GET') => fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });

test('ok: a scope-bound orders:read token of a customer reads her own orders through an owner route', async () => {
  assert.equal((await call(`/api/users/${auth.users.alice}/orders`, bound)).status, 200);
});

test('fail-not-owner: the same token is refused another user\'s orders', async () => {
  assert.equal((await call(`/api/users/${auth.users.bob}/orders`, bound)).status, 403);
});

test('fail-not-in-scope: the same token is refused orders:create, which her role grants but its scope does not', async () => {
  const response = await call('/api/orders', bound, 'POST');
  assert.equal(response.status, 403);
  assert.equal((await response.json() as { code: string }).code, 'forbidden');
});

test('ok: the same claims without scope_bound may create orders (roles alone decide)', async () => {
  assert.equal((await call('/api/orders', unbound, 'POST')).status, 200);
});
