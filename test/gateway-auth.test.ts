/**
 * Authentication at the gateway over real HTTP: 401 + WWW-Authenticate (RFC 6750), tokens only
 * in the Authorization header, the verified token forwarded, revocation pushed by the Security
 * Service (a disabled user's live token is refused within a second), 503 while keys are missing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, waitFor, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { freePort } from './helpers/service.ts';

let auth: AuthFixture;
let api: RecordingUpstream;
let gw: GatewayFixture;

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
  gw = await startGateway(auth, {
    services: { api: [api.url] },
    routes: [
      { methods: ['GET'], path: '/api/public', service: 'api', auth: 'public' },
      { methods: ['GET'], path: '/api/me', service: 'api' },
      { methods: ['GET'], path: '/oauth2/**', service: 'api', auth: 'passthrough' },
    ],
  });
});
after(async () => {
  await gw?.close();
  await api?.close();
  await auth?.close();
});

const get = (path: string, headers: Record<string, string> = {}) => fetch(`${gw.url}${path}`, { headers });

test('fail-no-token: 401 with a Bearer challenge without error code, never forwarded', async () => {
  const before = api.requests.length;
  const response = await get('/api/me');
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  assert.equal((await response.json() as { code: string }).code, 'unauthorized');
  assert.equal(api.requests.length, before);
});

test('fail-bad-token: a token that does not verify is 401 error="invalid_token"', async () => {
  const response = await get('/api/me', { authorization: 'Bearer eyJhbGciOiJFUzI1NiJ9.e30.c2ln' });
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token"');
  assert.equal((await response.json() as { code: string }).code, 'invalid_token');
});

test('fail-expired: an expired token is 401 invalid_token', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'], ttl: -120 });
  const response = await get('/api/me', { authorization: `Bearer ${token}` });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('fail-audience: a token for another API is 401 invalid_token', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'], aud: 'https://other.example/api' });
  const response = await get('/api/me', { authorization: `Bearer ${token}` });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('fail-malformed: a Bearer header with a space inside the token is 401 invalid_token', async () => {
  const response = await get('/api/me', { authorization: 'Bearer abc def' });
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
});

test('fail-other-scheme: Basic credentials are no bearer token: 401 without error code', async () => {
  const response = await get('/api/me', { authorization: 'Basic YWxpY2U6c2VjcmV0' });
  assert.equal(response.status, 401);
  assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
});

test('fail-query-token: an access token in the query is refused, not used', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const before = api.requests.length;
  const response = await get(`/api/me?access_token=${token}`);
  assert.equal(response.status, 400);
  assert.equal(api.requests.length, before);
  assert.ok(!(await response.text()).includes(token));
});

test('ok: a valid token passes and the upstream receives exactly that token, once', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const response = await get('/api/me', { authorization: `bearer   ${token}` });
  assert.equal(response.status, 200);
  const received = api.requests.at(-1)!;
  assert.deepEqual(received.header('authorization'), [`Bearer ${token}`]);
});

test('ok: a public route forwards no Authorization, even when the client sent one', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const response = await get('/api/public', { authorization: `Bearer ${token}` });
  assert.equal(response.status, 200);
  assert.deepEqual(api.requests.at(-1)!.header('authorization'), []);
});

test('ok: a passthrough route forwards the client\'s Authorization unchanged and checks nothing', async () => {
  const response = await get('/oauth2/userinfo', { authorization: 'Basic c2hvcDpzZWNyZXQ=' });
  assert.equal(response.status, 200);
  assert.deepEqual(api.requests.at(-1)!.header('authorization'), ['Basic c2hvcDpzZWNyZXQ=']);
});

test('fail-duplicate-authorization: two Authorization headers are 400, never a choice', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const { rawExchange } = await import('./helpers/gateway.ts');
  const raw = await rawExchange(gw.url, `GET /api/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nAuthorization: Bearer other\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 400 /);
});

test('ok: revocation is pushed: a disabled user\'s live token is refused within a second (2 s bound: loaded CI machines)', async () => {
  const token = await auth.token({ sub: auth.users.bob, roles: ['staff'] });
  assert.equal((await get('/api/me', { authorization: `Bearer ${token}` })).status, 200);
  await auth.svc.service.context.users.disable(auth.users.bob, 'test');
  const disabledAt = Date.now();
  await waitFor(async () => (await get('/api/me', { authorization: `Bearer ${token}` })).status === 401, 2000, 'the revoked token still passed after 2 s');
  assert.ok(Date.now() - disabledAt < 2000);
});

test('ok: no answer carries a token or a stack trace, and the access log names no token', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const bodies: string[] = [];
  for (const [path, headers] of [['/api/me', { authorization: `Bearer ${token}x` }], ['/api/me', { authorization: `Bearer ${token}` }], ['/api/me?access_token=' + token, {}], ['/api/public', { authorization: `Bearer ${token}` }]] as const) {
    const response = await get(path, headers);
    bodies.push(`${[...response.headers].join('\n')}\n${await response.text()}`);
  }
  for (const body of bodies) {
    assert.ok(!body.includes(token), 'a response echoed the token');
    assert.ok(!/at .*\.ts:\d+/.test(body), 'a response carried a stack trace');
  }
  const log = gw.logText();
  assert.ok(log.includes('"sub":"' + auth.users.alice + '"'), 'the access log names the caller');
  assert.ok(!log.includes(token), 'the log contains a token');
  assert.ok(!log.includes(token.split('.')[2]!), 'the log contains a token signature');
});

test('ok: the access log has request id, route, sub, decision, status and latency', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const response = await get('/api/me', { authorization: `Bearer ${token}`, 'x-request-id': 'req-abc-123' });
  assert.equal(response.headers.get('x-request-id'), 'req-abc-123');
  await waitFor(() => gw.logs.some((line) => line.reqId === 'req-abc-123'));
  const line = gw.logs.find((l) => l.reqId === 'req-abc-123')!;
  assert.equal(line.route, 'GET /api/me');
  assert.equal(line.sub, auth.users.alice);
  assert.equal(line.decision, 'allow');
  assert.equal(line.status, 200);
  assert.equal(typeof line.ms, 'number');
});

test('fail-keys-unavailable: while the Security Service was never reached, tokens get 503 and /readyz names what is missing', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  const lonely = await startGateway(auth, { services: { api: [api.url] }, routes: [{ methods: ['GET'], path: '/api/me', service: 'api' }], securityService: dead, waitReady: false });
  try {
    const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
    const response = await fetch(`${lonely.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 503);
    assert.equal((await response.json() as { code: string }).code, 'temporarily_unavailable');
    assert.equal(response.headers.get('retry-after'), '5');
    const ready = await fetch(`${lonely.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'unavailable', notReady: ['jwks', 'policy', 'events'] });
  } finally {
    await lonely.close();
  }
});
