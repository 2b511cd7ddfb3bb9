/** The gateway's routing over real HTTP: 404, 405 + Allow, HEAD, gateway-owned paths, metrics. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';

let auth: AuthFixture;
let books: RecordingUpstream;
let gw: GatewayFixture;

before(async () => {
  auth = await startAuth();
  books = await startRecordingUpstream();
  gw = await startGateway(auth, {
    services: { books: [books.url] },
    routes: [
      { methods: ['GET'], path: '/api/books', service: 'books', auth: 'public' },
      { methods: ['GET', 'POST'], path: '/api/books/:id', service: 'books', auth: 'public' },
      { methods: ['DELETE'], path: '/api/books/:id', service: 'books', permissions: ['books:write'] },
      { methods: ['GET'], path: '/api/me', service: 'books' },
    ],
  });
});
after(async () => {
  await gw?.close();
  await books?.close();
  await auth?.close();
});

test('ok: a matching request reaches the upstream with its path and query', async () => {
  const before = books.requests.length;
  const response = await fetch(`${gw.url}/api/books?page=2`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
  assert.equal(books.requests.length, before + 1);
  assert.equal(books.requests.at(-1)!.target, '/api/books?page=2');
  assert.equal(books.requests.at(-1)!.method, 'GET');
});

test('fail-no-route: a path no route matches is 404 problem details, never forwarded', async () => {
  const before = books.requests.length;
  const response = await fetch(`${gw.url}/api/authors`);
  assert.equal(response.status, 404);
  assert.equal(response.headers.get('content-type'), 'application/problem+json');
  const problem = await response.json() as Record<string, unknown>;
  assert.equal(problem.code, 'not_found');
  assert.equal(problem.instance, '/api/authors');
  assert.equal(books.requests.length, before);
});

test('fail-method: a route for the path but not the method is 405 with Allow', async () => {
  const response = await fetch(`${gw.url}/api/books`, { method: 'PUT' });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get('allow'), 'GET, HEAD');
  assert.equal((await response.json() as { code: string }).code, 'method_not_allowed');
});

test('ok: Allow names the methods of every route on the path', async () => {
  const response = await fetch(`${gw.url}/api/books/7`, { method: 'PATCH' });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get('allow'), 'GET, HEAD, POST, DELETE');
});

test('ok: HEAD follows GET and reaches the upstream as HEAD', async () => {
  const response = await fetch(`${gw.url}/api/books`, { method: 'HEAD' });
  assert.equal(response.status, 200);
  assert.equal(books.requests.at(-1)!.method, 'HEAD');
});

test('ok: every answer carries a request id; the gateway\'s own answers carry the security headers', async () => {
  const response = await fetch(`${gw.url}/nowhere`);
  assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
});

test('ok: /healthz answers 200 while the process runs', async () => {
  const response = await fetch(`${gw.url}/healthz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ok' });
});

test('ok: /readyz is 200 once keys, policy and the event stream are there', async () => {
  const response = await fetch(`${gw.url}/readyz`);
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: 'ready' });
});

test('ok: /metrics from loopback has requests, latency and denials', async () => {
  await fetch(`${gw.url}/nowhere`);
  const response = await fetch(`${gw.url}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /gatehouse_gateway_requests_total\{route="GET \/api\/books",status="200"\} \d+/);
  assert.match(text, /gatehouse_gateway_request_duration_seconds_bucket\{le="0.005",route="GET \/api\/books"\}/);
  assert.match(text, /gatehouse_gateway_denials_total\{reason="not_found"\} \d+/);
  assert.match(text, /gatehouse_gateway_security_service_requests_total\{kind="jwks",outcome="200"\} 1/);
  assert.match(text, /gatehouse_gateway_token_cache_lookups_total\{result="hit"\} \d+/);
});

test('ok: a token seen before is answered from the verified-token cache', async () => {
  const token = await auth.token({ sub: auth.users.bob, roles: ['staff'] });
  const lookups = async () => {
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const count = (result: string) => Number(new RegExp(`gatehouse_gateway_token_cache_lookups_total\\{result="${result}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return { hit: count('hit'), miss: count('miss') };
  };
  const before = await lookups();
  for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gw.url}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  const after = await lookups();
  assert.deepEqual({ hit: after.hit - before.hit, miss: after.miss - before.miss }, { hit: 2, miss: 1 });
});

test('fail-metrics-address: /metrics is refused to clients outside metricsAllowFrom', async () => {
  const closed = await startGateway(auth, { services: { books: [books.url] }, routes: [{ methods: ['GET'], path: '/api/books', service: 'books', auth: 'public' }], gateway: { metricsAllowFrom: ['10.0.0.0/8'] } });
  try {
    const response = await fetch(`${closed.url}/metrics`);
    assert.equal(response.status, 403);
    assert.doesNotMatch(await response.text(), /gatehouse_gateway/);
    assert.equal((await fetch(`${closed.url}/healthz`)).status, 200);
  } finally {
    await closed.close();
  }
});

test('fail-method: gateway-owned paths are read-only', async () => {
  const response = await fetch(`${gw.url}/healthz`, { method: 'POST' });
  assert.equal(response.status, 405);
  assert.equal(response.headers.get('allow'), 'GET, HEAD');
});
