/**
 * What the upstream receives, asserted on the exact bytes it recorded: only the headers the
 * gateway allows, nothing a client could pass off as identity, the trace ids; and what the client
 * receives back (hop-by-hop headers stripped, CORS from the route's policy, HSTS on https).
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, rawExchange, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';

let auth: AuthFixture;
let api: RecordingUpstream;
let gw: GatewayFixture;
let token: string;

const ROUTES = [
  { methods: ['GET', 'POST'], path: '/api/things', service: 'api' },
  { methods: ['GET'], path: '/api/open', service: 'api', auth: 'public' },
  { methods: ['GET', 'POST'], path: '/api/cors', service: 'api', auth: 'public', cors: 'shop' },
];
const CORS = { shop: { origins: ['https://shop.example'], credentials: true, exposeHeaders: ['x-total'] } };

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
  gw = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, gateway: { cors: CORS } });
  token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
});
after(async () => {
  await gw?.close();
  await api?.close();
  await auth?.close();
});

/** Sends a raw request and returns what the upstream recorded for it. */
async function forwarded(url: string, lines: string[]) {
  const before = api.requests.length;
  const raw = await rawExchange(url, `${lines.join('\r\n')}\r\n\r\n`);
  assert.match(raw, /^HTTP\/1\.1 200 /, raw.split('\r\n')[0]);
  assert.equal(api.requests.length, before + 1);
  return { raw, received: api.requests.at(-1)! };
}

const FORGED = [
  'X-Forwarded-For: 6.6.6.6',
  'X-Forwarded-Host: evil.example',
  'X-Forwarded-Proto: https',
  'X-Forwarded-Prefix: /admin',
  'Forwarded: for=6.6.6.6;host=evil.example',
  'X-Real-IP: 6.6.6.6',
  'X-Client-IP: 6.6.6.6',
  'True-Client-IP: 6.6.6.6',
  'X-Remote-User: admin',
  'X-User: admin',
  'X-User-Id: 1',
  'X-Gatehouse-Subject: admin',
  'X-Gatehouse-Roles: admin',
  'X-HTTP-Method-Override: DELETE',
  'X-HTTP-Method: DELETE',
  'X-Method-Override: DELETE',
  'X-Original-Method: DELETE',
  'X-Original-URL: /admin',
  'X-Rewrite-URL: /admin',
  'Proxy-Authorization: Basic YWRtaW46YWRtaW4=',
  'Keep-Alive: timeout=5',
  'TE: trailers',
  'Connection: keep-alive, X-Hop-Secret',
  'X-Hop-Secret: do-not-forward',
];

describe('request headers', () => {
  test('ok: the upstream receives exactly the client\'s ordinary headers plus what the gateway vouches for', async () => {
    const { received } = await forwarded(gw.url, ['GET /api/things HTTP/1.1', 'Host: shop.example', `Authorization: Bearer ${token}`, 'Accept: application/json', 'User-Agent: test', 'X-App-Version: 7', ...FORGED]);
    assert.deepEqual(received.headers.map(([name]) => name.toLowerCase()), [
      'host', 'connection', 'accept', 'user-agent', 'x-app-version',
      'authorization', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent',
    ]);
    assert.deepEqual(received.header('authorization'), [`Bearer ${token}`]);
    assert.deepEqual(received.header('x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(received.header('x-forwarded-proto'), ['http']);
    assert.deepEqual(received.header('x-forwarded-host'), ['shop.example']);
    assert.equal(received.method, 'GET');
    assert.equal(received.target, '/api/things');
  });

  test('ok: method overrides are ignored: the upstream sees the method that was authorized', async () => {
    const { received } = await forwarded(gw.url, ['POST /api/things HTTP/1.1', 'Host: x', `Authorization: Bearer ${token}`, 'X-HTTP-Method-Override: DELETE', 'Content-Length: 0']);
    assert.equal(received.method, 'POST');
    assert.deepEqual(received.header('x-http-method-override'), []);
  });

  test('fail-method-parameter: a _method query parameter is refused with 400', async () => {
    const raw = await rawExchange(gw.url, 'POST /api/things?_method=DELETE HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400 /);
  });

  test('ok: behind a trusted proxy the chain is appended to, and its proto and host are kept', async () => {
    const proxied = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, gateway: { cors: CORS, trustedProxies: ['127.0.0.1/32'] } });
    try {
      const { received } = await forwarded(proxied.url, ['GET /api/open HTTP/1.1', 'Host: internal', 'X-Forwarded-For: 198.51.100.4', 'X-Forwarded-Proto: https', 'X-Forwarded-Host: shop.example', 'Forwarded: for=198.51.100.4;proto=https']);
      assert.deepEqual(received.header('x-forwarded-for'), ['198.51.100.4, 127.0.0.1']);
      assert.deepEqual(received.header('x-forwarded-proto'), ['https']);
      assert.deepEqual(received.header('x-forwarded-host'), ['shop.example']);
      assert.deepEqual(received.header('forwarded'), ['for=198.51.100.4;proto=https']);
    } finally {
      await proxied.close();
    }
  });

  test('ok: a sane X-Request-Id and a valid traceparent pass through with their tracestate', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const { raw, received } = await forwarded(gw.url, ['GET /api/open HTTP/1.1', 'Host: x', 'X-Request-Id: order-42', `traceparent: ${traceparent}`, 'tracestate: vendor=abc']);
    assert.deepEqual(received.header('x-request-id'), ['order-42']);
    assert.deepEqual(received.header('traceparent'), [traceparent]);
    assert.deepEqual(received.header('tracestate'), ['vendor=abc']);
    assert.match(raw, /\r\nx-request-id: order-42\r\n/);
  });

  test('ok: a missing or malformed request id and traceparent are replaced by fresh ones', async () => {
    const { raw, received } = await forwarded(gw.url, ['GET /api/open HTTP/1.1', 'Host: x', 'X-Request-Id: <script>', 'traceparent: 00-00000000000000000000000000000000-00f067aa0ba902b7-01', 'tracestate: vendor=abc']);
    const [id] = received.header('x-request-id');
    assert.match(id!, /^[0-9a-f-]{36}$/);
    assert.ok(raw.includes(`x-request-id: ${id}`));
    assert.match(received.header('traceparent')[0]!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.notEqual(received.header('traceparent')[0], '00-00000000000000000000000000000000-00f067aa0ba902b7-01');
    assert.deepEqual(received.header('tracestate'), []);
  });
});

describe('response headers', () => {
  test('ok: hop-by-hop and Connection-named response headers never reach the client', async () => {
    api.respond = () => ({ status: 200, headers: { connection: 'keep-alive, x-upstream-hop', 'x-upstream-hop': 'secret', 'keep-alive': 'timeout=5', 'x-kept': 'yes' }, body: 'ok' });
    try {
      const raw = await rawExchange(gw.url, 'GET /api/open HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(raw, /\r\nx-kept: yes\r\n/);
      assert.doesNotMatch(raw, /x-upstream-hop/i);
      assert.doesNotMatch(raw, /timeout=5/);
    } finally {
      api.respond = () => ({ status: 200, body: '{"ok":true}' });
    }
  });
});

describe('CORS', () => {
  test('ok: a preflight from a listed origin is answered by the gateway with that origin', async () => {
    const before = api.requests.length;
    const response = await fetch(`${gw.url}/api/cors`, { method: 'OPTIONS', headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' } });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://shop.example');
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(response.headers.get('vary') ?? '', /Origin/);
    assert.equal(api.requests.length, before);
  });

  test('fail-cors-origin: a preflight from another origin is 403 and echoes nothing', async () => {
    const response = await fetch(`${gw.url}/api/cors`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });

  test('ok: an actual request gets the policy\'s headers, replacing the upstream\'s own', async () => {
    api.respond = () => ({ status: 200, headers: { 'access-control-allow-origin': '*', 'x-total': '3' }, body: '[]' });
    try {
      const allowed = await fetch(`${gw.url}/api/cors`, { headers: { origin: 'https://shop.example' } });
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://shop.example');
      assert.equal(allowed.headers.get('access-control-expose-headers'), 'x-total');
      const other = await fetch(`${gw.url}/api/cors`, { headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    } finally {
      api.respond = () => ({ status: 200, body: '{"ok":true}' });
    }
  });
});

test('ok: with an https publicUrl every answer carries Strict-Transport-Security', async () => {
  const secure = await startGateway(auth, { services: { api: [api.url] }, routes: ROUTES, gateway: { cors: CORS, publicUrl: 'https://shop.example' } });
  try {
    assert.match((await fetch(`${secure.url}/api/open`)).headers.get('strict-transport-security') ?? '', /max-age=\d+/);
    assert.match((await fetch(`${secure.url}/nowhere`)).headers.get('strict-transport-security') ?? '', /max-age=\d+/);
  } finally {
    await secure.close();
  }
});
