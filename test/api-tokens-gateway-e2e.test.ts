/**
 * Personal API tokens end to end: a real Security Service (the token store and the RFC 8693
 * exchange grant), a real gateway whose client has scope tokens:exchange, and a recording
 * upstream. A token is created, used with curl-style requests (Bearer and Basic) through the
 * gateway, and then killed every way there is: revoked by its owner, leaked-and-revoked by anyone,
 * owner disabled, owner's role removed — each refused within a second (2 s bound: loaded CI
 * machines). The Security Service going away is 503, not 401. On SQLite and PostgreSQL.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { startAuth, startGateway, startRecordingUpstream, waitFor, PASSWORD, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { switchableProxy, type SwitchableProxy } from './helpers/proxy.ts';
import { forEachDialect } from './helpers/dialects.ts';

const ROUTES = [
  { methods: ['GET'], path: '/api/me', service: 'api' },
  { methods: ['POST'], path: '/api/orders', service: 'api', permissions: ['orders:create'] },
  { methods: ['GET'], path: '/api/users/:userId/orders', service: 'api', permissions: ['orders:read'], owner: 'params.userId' },
];
/** The address the test pretends to call from (the gateway trusts 127.0.0.1 as a proxy). */
const CLIENT = '203.0.113.9';

await forEachDialect('personal API tokens end to end', (dialect) => {
  let auth: AuthFixture;
  let api: RecordingUpstream;
  let proxy: SwitchableProxy;
  let gw: GatewayFixture;

  before(async () => {
    auth = await startAuth({ dialect, gatewayScope: 'events:read tokens:exchange', config: { http: { trustedProxies: ['127.0.0.1/32'] } } });
    api = await startRecordingUpstream();
    proxy = await switchableProxy(new URL(auth.issuer));
    gw = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, securityService: proxy.url, gateway: { trustedProxies: ['127.0.0.1/32'] } });
  });
  after(async () => {
    await gw?.close();
    proxy?.close();
    await api?.close();
    await auth?.close();
  });

  const ctx = () => auth.svc.service.context;

  async function newUser(name: string, roles: string[]): Promise<string> {
    return (await ctx().users.create({ username: name, email: `${name}@example.com`, password: PASSWORD, roles }, 'test')).id;
  }

  let made = 0;
  async function createToken(userId: string, scopes: string[]): Promise<{ token: string; id: string }> {
    made += 1;
    const { token, summary } = await ctx().apiTokens.create({ userId, name: `script ${made}`, scopes, expiresIn: 3600 }, `user:${userId}`);
    return { token, id: summary.id };
  }

  const curl = (path: string, authorization: string, method = 'GET') =>
    fetch(`${gw.url}${path}`, { method, headers: { authorization, 'x-forwarded-for': CLIENT } });
  const bearer = (token: string) => `Bearer ${token}`;
  const basic = (token: string) => `Basic ${Buffer.from(`me:${token}`).toString('base64')}`;

  async function refusedWithin(path: string, token: string, since: number): Promise<void> {
    await waitFor(async () => (await curl(path, bearer(token))).status === 401, 2000, 'the token still passed after 2 s');
    assert.ok(Date.now() - since < 2000);
  }

  test('ok: a new token works at once with Bearer; the upstream sees a scope-bound JWT for the owner, never the token', async () => {
    const erin = await newUser('erin', ['customer']);
    const { token, id } = await createToken(erin, ['orders:read']);
    assert.equal((await curl('/api/me', bearer(token))).status, 200);
    const forwarded = api.requests.at(-1)!.header('authorization');
    assert.equal(forwarded.length, 1);
    const claims = decodeJwt(forwarded[0]!.slice('Bearer '.length));
    assert.equal(claims.sub, erin);
    assert.equal(claims.scope_bound, true);
    assert.equal(claims.api_token_id, id);
    assert.equal(claims.client_id, auth.gatewayClient.clientId);
    assert.ok(!api.requests.some((request) => request.head.includes(token)));
  });

  test('ok: HTTP Basic with the token as password works the same', async () => {
    const frank = await newUser('frank', ['customer']);
    const { token } = await createToken(frank, ['orders:read']);
    assert.equal((await curl('/api/me', basic(token))).status, 200);
    assert.match(api.requests.at(-1)!.header('authorization')[0]!, /^Bearer eyJ/);
  });

  test('ok: the token\'s last use is recorded with the end client\'s address, not the gateway\'s', async () => {
    const gina = await newUser('gina', ['customer']);
    const { token } = await createToken(gina, ['orders:read']);
    assert.equal((await curl('/api/me', bearer(token))).status, 200);
    const [summary] = await ctx().apiTokens.list(gina);
    assert.equal(summary!.lastUsedAddress, CLIENT);
    assert.ok(summary!.lastUsedAt !== undefined);
  });

  test('fail-not-in-scope: orders:read reads the owner\'s orders only and cannot create one, though her role could (403)', async () => {
    const hana = await newUser('hana', ['customer']);
    const { token } = await createToken(hana, ['orders:read']);
    assert.equal((await curl(`/api/users/${hana}/orders`, bearer(token))).status, 200);
    assert.equal((await curl(`/api/users/${auth.users.alice}/orders`, bearer(token))).status, 403);
    const create = await curl('/api/orders', bearer(token), 'POST');
    assert.equal(create.status, 403);
    assert.equal(((await create.json()) as { code: string }).code, 'forbidden');
  });

  test('fail-unknown: a well-formed token that was never issued is 401 invalid_token (Basic: with a Basic challenge)', async () => {
    const { generateApiToken } = await import('../src/shared/api-token-format.ts');
    const response = await curl('/api/me', basic(generateApiToken()));
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Basic realm="gatehouse", Bearer realm="gatehouse", error="invalid_token"');
  });

  test('fail-revoked: revoked by its owner, the token is refused within a second', async () => {
    const ivan = await newUser('ivan', ['customer']);
    const { token, id } = await createToken(ivan, ['orders:read']);
    assert.equal((await curl('/api/me', bearer(token))).status, 200);
    const since = Date.now();
    assert.equal(await ctx().apiTokens.revoke(ivan, id, `user:${ivan}`), true);
    await refusedWithin('/api/me', token, since);
  });

  test('fail-leaked: revoked through POST /api-tokens/revoke by whoever found it, the token is refused within a second', async () => {
    const jane = await newUser('jane', ['customer']);
    const { token } = await createToken(jane, ['orders:read']);
    assert.equal((await curl('/api/me', basic(token))).status, 200);
    const since = Date.now();
    const revoked = await fetch(`${auth.issuer}/api-tokens/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    assert.equal(revoked.status, 204);
    await refusedWithin('/api/me', token, since);
  });

  test('fail-owner-disabled: disabling the owner refuses the token within a second', async () => {
    const karl = await newUser('karl', ['customer']);
    const { token } = await createToken(karl, ['orders:read']);
    assert.equal((await curl('/api/me', bearer(token))).status, 200);
    const since = Date.now();
    await ctx().users.disable(karl, 'test');
    await refusedWithin('/api/me', token, since);
  });

  test('fail-role-removed: when the owner loses the role, what it granted is refused within a second', async () => {
    const lena = await newUser('lena', ['customer']);
    const { token } = await createToken(lena, ['orders:create']);
    assert.equal((await curl('/api/orders', bearer(token), 'POST')).status, 200);
    const since = Date.now();
    await ctx().users.revokeRole(lena, 'customer', 'test');
    await waitFor(async () => (await curl('/api/orders', bearer(token), 'POST')).status === 403, 2000, 'the token still created orders after 2 s');
    assert.ok(Date.now() - since < 2000);
  });

  test('fail-security-service-down: a new token cannot be exchanged: 503 with Retry-After, not 401; a cached one still works', async () => {
    const mia = await newUser('mia', ['customer']);
    const cached = await createToken(mia, ['orders:read']);
    const fresh = await createToken(mia, ['orders:read']);
    assert.equal((await curl('/api/me', bearer(cached.token))).status, 200);
    proxy.up = false;
    try {
      const response = await curl('/api/me', bearer(fresh.token));
      assert.equal(response.status, 503);
      assert.ok(response.headers.get('retry-after'));
      assert.equal((await curl('/api/me', bearer(cached.token))).status, 200);
    } finally {
      proxy.up = true;
    }
  });

  test('ok: no gateway log line holds an API token', async () => {
    const nora = await newUser('nora', ['customer']);
    const { token } = await createToken(nora, ['orders:read']);
    await curl('/api/me', bearer(token));
    assert.ok(!gw.logText().includes(token));
    assert.ok(!gw.logText().includes('gth_'));
  });
});
