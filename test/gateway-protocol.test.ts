/**
 * Request smuggling and path shapes over raw sockets: every framing ambiguity and every target
 * an upstream could read differently is a 400 that closes the connection, and nothing — not the
 * request, not what was pipelined behind it — reaches the upstream.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startAuth, startGateway, startRecordingUpstream, rawExchange, statuses, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';

let auth: AuthFixture;
let api: RecordingUpstream;
let gw: GatewayFixture;

before(async () => {
  auth = await startAuth();
  api = await startRecordingUpstream();
  gw = await startGateway(auth, {
    services: { api: [api.url] },
    routes: [
      { methods: ['GET', 'POST'], path: '/api/open', service: 'api', auth: 'public' },
      { methods: ['GET'], path: '/api/files/**', service: 'api', auth: 'public' },
      { methods: ['GET'], path: '/api/admin', service: 'api', roles: ['admin'] },
    ],
    gateway: { maxTargetLength: 256 },
  });
});
after(async () => {
  await gw?.close();
  await api?.close();
  await auth?.close();
});

/** Sends `bytes` and expects exactly one 4xx answer, a closed connection and nothing upstream. */
async function refused(bytes: string, status = 400): Promise<string> {
  const before = api.requests.length;
  const raw = await rawExchange(gw.url, bytes, { responses: 2, idleMs: 500 });
  assert.deepEqual(statuses(raw), [status], raw);
  assert.match(raw, /\r\nconnection: close\r\n/i);
  // whatever Node dispatched from the same bytes would be forwarded asynchronously: give it time to show
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(api.requests.length, before, 'the upstream received something');
  return raw;
}

const pipelined = 'GET /api/admin HTTP/1.1\r\nHost: x\r\n\r\n';

describe('framing', () => {
  test('fail-cl-te: Content-Length with Transfer-Encoding is 400, and the smuggled request never runs', async () => {
    await refused(`POST /api/open HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${pipelined}`);
  });

  test('fail-duplicate-content-length: two Content-Length headers are 400, equal or not', async () => {
    await refused('POST /api/open HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}');
    await refused('POST /api/open HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 40\r\n\r\n{}');
  });

  test('fail-two-hosts: a second Host header is 400; the request pipelined behind it is dropped', async () => {
    await refused(`GET /api/open HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n${pipelined}GET /api/open HTTP/1.1\r\nHost: x\r\n\r\n`);
  });

  test('fail-bare-cr: a bare CR inside a header is 400', async () => {
    await refused('GET /api/open HTTP/1.1\r\nHost: x\r\nX-A: a\rX-B: b\r\n\r\n');
  });

  test('fail-transfer-encoding: a Transfer-Encoding other than chunked is 400', async () => {
    await refused('POST /api/open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n');
    await refused('POST /api/open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n');
  });

  test('fail-no-host: a request without Host is 400', async () => {
    await refused('GET /api/open HTTP/1.1\r\n\r\n');
  });

  test('fail-http09: an HTTP/0.9 request line is 400, never forwarded', async () => {
    const before = api.requests.length;
    const raw = await rawExchange(gw.url, 'GET /api/open\r\n\r\n', { idleMs: 500 });
    assert.doesNotMatch(raw, /^HTTP\/1\.1 200/);
    assert.equal(api.requests.length, before);
  });

  test('fail-chunked-http10: Transfer-Encoding in an HTTP/1.0 request is 400', async () => {
    await refused('POST /api/open HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
  });

  test('fail-header-too-large: a head beyond Node\'s limit is 431', async () => {
    await refused(`GET /api/open HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431);
  });

  test('fail-bad-chunk: a malformed chunk mid-body cuts the connection; the upstream never gets a complete request and is not blamed', async () => {
    const before = api.requests.length;
    const raw = await rawExchange(gw.url, 'POST /api/open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nZZ\r\nxx\r\n0\r\n\r\n', { idleMs: 500 });
    assert.equal(raw, '');
    assert.equal(api.requests.length, before);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.doesNotMatch(metrics, /gatehouse_gateway_upstream_errors_total\{/);
  });

  test('ok: two well-formed pipelined requests are both served in order', async () => {
    const raw = await rawExchange(gw.url, 'GET /api/open HTTP/1.1\r\nHost: x\r\n\r\nGET /api/open?second=1 HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 2 });
    assert.deepEqual(statuses(raw), [200, 200]);
    assert.equal(api.requests.at(-1)!.target, '/api/open?second=1');
  });
});

describe('request targets', () => {
  const shapes: Array<[string, string]> = [
    ['absolute-form', 'http://evil.example/api/open'],
    ['encoded-slash', '/api/files/a%2f..%2fadmin'],
    ['dot-segment', '/api/files/../admin'],
    ['encoded-dot-segment', '/api/files/%2e%2e/admin'],
    ['semicolon', '/api/open;jsessionid=1'],
    ['semicolon-dots', '/api/files/..;/admin'],
    ['double-slash', '//api/open'],
    ['overlong-utf8', '/api/files/%C0%AE%C0%AE/admin'],
    ['backslash', '/api/files\\..\\admin'],
    ['asterisk-form', '*'],
  ];
  for (const [name, target] of shapes) {
    test(`fail-${name}: ${target} is 400 and never forwarded`, async () => {
      await refused(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
  }

  test('fail-uri-too-long: a target beyond maxTargetLength is 414', async () => {
    const raw = await refused(`GET /api/files/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414);
    assert.match(raw, /"code":"uri_too_long"/);
  });

  test('ok: the upstream receives exactly the normalized target that was matched', async () => {
    const raw = await rawExchange(gw.url, 'GET /api/%6Fpen?q=%20x HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(statuses(raw), [200]);
    assert.equal(api.requests.at(-1)!.target, '/api/open?q=%20x');
  });

  test('fail-encoded-route: an encoded spelling of a protected path is still protected', async () => {
    const raw = await rawExchange(gw.url, 'GET /api/%61dmin HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.deepEqual(statuses(raw), [401]);
  });
});
