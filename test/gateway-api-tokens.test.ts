/**
 * Personal API tokens at the gateway, over real HTTP: a real Security Service (keys, policy, the
 * event stream) behind a front that answers the RFC 8693 exchange as each test says
 * (test/helpers/exchange-front.ts), a real gateway and a recording upstream. What the gateway
 * must do: check the format offline, exchange once per token (single-flight), forward only the
 * exchanged JWT, refuse with the right challenge, follow revocations, and tell "refused" (401)
 * from "cannot tell" (503). The Security Service's real grant: test/api-tokens-gateway-e2e.test.ts.
 */
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { startAuth, startGateway, startRecordingUpstream, waitFor, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { startExchangeFront, type ExchangeCall, type ExchangeFront } from './helpers/exchange-front.ts';
import { generateApiToken } from '../src/shared/api-token-format.ts';

let auth: AuthFixture;
let api: RecordingUpstream;
let front: ExchangeFront;
let gw: GatewayFixture;

/** What the fake Security Service knows: token → its owner and scopes. */
const known = new Map<string, { sub: string; roles: string[]; scope: string }>();

const ROUTES = [
  { methods: ['GET'], path: '/api/me', service: 'api' },
  { methods: ['POST'], path: '/api/orders', service: 'api', permissions: ['orders:create'] },
  { methods: ['GET'], path: '/api/users/:userId/orders', service: 'api', permissions: ['orders:read'], owner: 'params.userId' },
];

async function issue(call: ExchangeCall) {
  const owner = known.get(call.form.get('subject_token') ?? '');
  if (owner === undefined) return { status: 400, body: { error: 'invalid_grant', error_description: 'unknown token' } };
  const accessToken = await auth.token({ sub: owner.sub, roles: owner.roles, scope: owner.scope, clientId: 'gateway', extra: { scope_bound: true, api_token_id: 'id1' } });
  return { status: 200, body: { access_token: accessToken, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 300, scope: owner.scope } };
}

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
  front = await startExchangeFront(auth.issuer, issue);
  gw = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, securityService: front.url });
});
after(async () => {
  await gw?.close();
  await front?.close();
  await api?.close();
  await auth?.close();
});
beforeEach(() => {
  front.answer = issue;
});

function newToken(sub = auth.users.alice, scope = 'orders:read'): string {
  const token = generateApiToken();
  known.set(token, { sub, roles: sub === auth.users.alice ? ['customer'] : ['staff'], scope });
  return token;
}

const basic = (token: string, user = 'x') => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
const get = (path: string, authorization: string, method = 'GET') => fetch(`${gw.url}${path}`, { method, headers: { authorization } });
const exchangesFor = (token: string) => front.calls.filter((call) => call.form.get('subject_token') === token).length;

test('ok: Bearer gth_… is exchanged once; the upstream sees only the exchanged JWT', async () => {
  const token = newToken();
  for (let i = 0; i < 3; i++) assert.equal((await get('/api/me', `Bearer ${token}`)).status, 200);
  assert.equal(exchangesFor(token), 1);
  const forwarded = api.requests.at(-1)!.header('authorization');
  assert.equal(forwarded.length, 1);
  assert.match(forwarded[0]!, /^Bearer eyJ/);
  const claims = decodeJwt(forwarded[0]!.slice(7));
  assert.equal(claims.sub, auth.users.alice);
  assert.equal(claims.scope_bound, true);
  assert.ok(!api.requests.some((request) => request.head.includes(token)), 'the API token reached the upstream');
});

test('ok: the exchange is RFC 8693 with the gateway\'s client, the audience as resource and the client\'s address', async () => {
  const token = newToken();
  assert.equal((await get('/api/me', `Bearer ${token}`)).status, 200);
  const call = front.calls.find((c) => c.form.get('subject_token') === token)!;
  assert.equal(call.form.get('subject_token_type'), 'urn:gatehouse:params:oauth:token-type:api-token');
  assert.equal(call.form.get('resource'), auth.audience);
  const [scheme, credentials] = (call.headers.authorization ?? '').split(' ');
  assert.equal(scheme, 'Basic');
  assert.match(Buffer.from(credentials!, 'base64').toString(), /^gateway:/);
  assert.equal(call.headers['x-forwarded-for'], '127.0.0.1');
});

test('ok: HTTP Basic with the token as password (any user name) works the same way', async () => {
  const token = newToken();
  assert.equal((await get('/api/me', basic(token, 'alice'))).status, 200);
  assert.equal((await get('/api/me', basic(token, ''))).status, 200);
  assert.equal(exchangesFor(token), 1);
  assert.match(api.requests.at(-1)!.header('authorization')[0]!, /^Bearer eyJ/);
});

test('ok: concurrent requests with one new token share one exchange', async () => {
  const token = newToken();
  front.answer = async (call) => { await new Promise((resolve) => setTimeout(resolve, 100)); return issue(call); };
  const statuses = await Promise.all(Array.from({ length: 10 }, () => get('/api/me', `Bearer ${token}`).then((r) => r.status)));
  assert.deepEqual(statuses, Array(10).fill(200));
  assert.equal(exchangesFor(token), 1);
});

test('fail-checksum: a token with a typo is refused offline, with no exchange', async () => {
  const token = newToken();
  const typo = token.slice(0, 12) + (token[12] === 'a' ? 'b' : 'a') + token.slice(13);
  const before = front.calls.length;
  const response = await get('/api/me', `Bearer ${typo}`);
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token"');
  assert.equal(((await response.json()) as { code: string }).code, 'invalid_token');
  assert.equal(front.calls.length, before);
});

test('fail-malformed: a truncated or overlong token is refused offline', async () => {
  const token = newToken();
  const before = front.calls.length;
  assert.equal((await get('/api/me', `Bearer ${token.slice(0, -1)}`)).status, 401);
  assert.equal((await get('/api/me', `Bearer ${token}x`)).status, 401);
  assert.equal((await get('/api/me', basic(token.slice(0, 20)))).status, 401);
  assert.equal(front.calls.length, before);
});

test('fail-unknown: a well-formed token the Security Service refuses is 401 invalid_token; Basic adds a Basic challenge', async () => {
  const token = generateApiToken();
  const bearer = await get('/api/me', `Bearer ${token}`);
  assert.equal(bearer.status, 401);
  assert.equal(bearer.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token"');
  const other = generateApiToken();
  const viaBasic = await get('/api/me', basic(other));
  assert.equal(viaBasic.status, 401);
  assert.equal(viaBasic.headers.get('www-authenticate'), 'Basic realm="gatehouse", Bearer realm="gatehouse", error="invalid_token"');
});

test('fail-refused-again: a refused token is refused again for a while without a new exchange', async () => {
  const token = generateApiToken();
  assert.equal((await get('/api/me', `Bearer ${token}`)).status, 401);
  assert.equal((await get('/api/me', `Bearer ${token}`)).status, 401);
  assert.equal(exchangesFor(token), 1);
});

test('ok: other Basic credentials are not the gateway\'s: 401 asking for a bearer token, no exchange', async () => {
  const before = front.calls.length;
  const response = await get('/api/me', basic('a-password'));
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
  assert.equal(front.calls.length, before);
});

test('fail-unavailable: the Security Service failing the exchange is 503 with Retry-After, not 401', async () => {
  for (const failure of [{ status: 500, body: { error: 'server_error' } }, 'destroy' as const, { status: 400, body: { error: 'unauthorized_client' } }]) {
    front.answer = () => failure;
    const response = await get('/api/me', `Bearer ${newToken()}`);
    assert.equal(response.status, 503, JSON.stringify(failure));
    assert.equal(response.headers.get('retry-after'), '5');
  }
});

test('fail-not-in-scope: the exchanged token is scope-bound: orders:read does not create orders; her own orders only', async () => {
  const token = newToken(auth.users.alice, 'orders:read');
  assert.equal((await get('/api/orders', `Bearer ${token}`, 'POST')).status, 403);
  assert.equal((await get(`/api/users/${auth.users.alice}/orders`, `Bearer ${token}`)).status, 200);
  assert.equal((await get(`/api/users/${auth.users.bob}/orders`, `Bearer ${token}`)).status, 403);
});

test('ok: a revocation naming the exchanged token refuses it within a second, then the token is exchanged again', async () => {
  const token = newToken();
  assert.equal((await get('/api/me', `Bearer ${token}`)).status, 200);
  const jti = decodeJwt(api.requests.at(-1)!.header('authorization')[0]!.slice(7)).jti!;
  known.delete(token); // the Security Service revoked it
  const now = Math.floor(Date.now() / 1000);
  const revokedAt = Date.now();
  await auth.svc.service.context.events.publish({ type: 'tokens.revoked', subject: auth.users.alice, tokenIds: [jti], issuedBefore: 0, until: now + 600, reason: 'api_token_revoked' });
  await waitFor(async () => (await get('/api/me', `Bearer ${token}`)).status === 401, 2000, 'the revoked token still passed after 2 s');
  assert.ok(Date.now() - revokedAt < 2000);
  // The refused access token was dropped: the next request asks again (and is refused).
  assert.equal((await get('/api/me', `Bearer ${token}`)).status, 401);
  assert.equal(exchangesFor(token), 2);
});

test('ok: /metrics counts exchanges by outcome and the cached tokens', async () => {
  const text = await (await fetch(`${gw.url}/metrics`)).text();
  assert.match(text, /^gatehouse_gateway_api_token_exchanges_total\{outcome="issued"\} [1-9]/m);
  assert.match(text, /^gatehouse_gateway_api_token_exchanges_total\{outcome="refused"\} [1-9]/m);
  assert.match(text, /^gatehouse_gateway_api_token_cache_entries [1-9]/m);
});

test('ok: no log line and no answer carries an API token', async () => {
  const token = newToken();
  const response = await get('/api/me', `Bearer ${token}`);
  assert.ok(!(await response.text()).includes(token));
  await get('/api/me', `Bearer ${generateApiToken()}`);
  for (const t of known.keys()) assert.ok(!gw.logText().includes(t), 'a log line holds an API token');
});
