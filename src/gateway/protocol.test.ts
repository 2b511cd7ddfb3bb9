/**
 * checkRequestHead, and which layer refuses which malformed request: Node's HTTP parser or the
 * gateway's checks (docs/gateway.md "Which layer refuses what"). The raw-socket table sends
 * each request to a real node:http server whose handler runs checkRequestHead + normalizeTarget,
 * as the gateway does; a case fails if Node ever starts or stops refusing something on its own.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { checkRequestHead, HEAD_REASONS, METHOD_OVERRIDE_HEADERS } from './protocol.ts';
import { normalizeTarget } from './request-target.ts';

const HOST = ['Host', 'gateway.example'];
type Reason = keyof typeof HEAD_REASONS;

test('ok: one Host, nothing else', () => {
  assert.deepEqual(checkRequestHead('GET', HOST), { ok: true });
});

test('ok: one Content-Length', () => {
  assert.deepEqual(checkRequestHead('POST', [...HOST, 'Content-Length', '12']), { ok: true });
});

test('ok: Transfer-Encoding: chunked, in any case', () => {
  assert.deepEqual(checkRequestHead('POST', [...HOST, 'transfer-encoding', 'Chunked']), { ok: true });
});

test('ok: a host with a port and an IPv6 literal', () => {
  assert.deepEqual(checkRequestHead('GET', ['host', '[::1]:8000']), { ok: true });
});

test('ok: an HTTP/1.0 request with a Host header', () => {
  assert.deepEqual(checkRequestHead('GET', HOST, '1.0'), { ok: true });
});

test('ok: a method Node knows and routes do not name (PROPFIND)', () => {
  assert.deepEqual(checkRequestHead('PROPFIND', HOST), { ok: true });
});

test('ok: the method-override headers the server strips', () => {
  for (const name of ['x-http-method-override', 'x-http-method', 'x-method-override']) assert.ok(METHOD_OVERRIDE_HEADERS.includes(name));
});

const FAIL: Array<[Reason, string, string[], string?]> = [
  ['host', 'no Host', []],
  ['host', 'a second Host', [...HOST, 'HOST', 'evil.example']],
  ['host', 'a second Host with the same value', [...HOST, ...HOST]],
  ['badHost', 'an empty Host', ['Host', '']],
  ['badHost', 'a Host with a space', ['Host', 'a b']],
  ['badHost', 'a Host with a path', ['Host', 'evil.example/x']],
  ['badHost', 'a Host with non-ASCII', ['Host', 'évil.example']],
  ['duplicateContentLength', 'two equal Content-Length headers', [...HOST, 'Content-Length', '1', 'content-length', '1']],
  ['badContentLength', 'Content-Length with a sign', [...HOST, 'Content-Length', '+1']],
  ['badContentLength', 'Content-Length as a list', [...HOST, 'Content-Length', '1, 1']],
  ['lengthAndChunked', 'Content-Length with Transfer-Encoding', [...HOST, 'Content-Length', '5', 'Transfer-Encoding', 'chunked']],
  ['transferEncoding', 'Transfer-Encoding: gzip, chunked', [...HOST, 'Transfer-Encoding', 'gzip, chunked']],
  ['transferEncoding', 'Transfer-Encoding: identity', [...HOST, 'Transfer-Encoding', 'identity']],
  ['transferEncoding', 'Transfer-Encoding twice', [...HOST, 'Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']],
  ['chunkedHttp10', 'chunked in HTTP/1.0', [...HOST, 'Transfer-Encoding', 'chunked'], '1.0'],
  ['version', 'HTTP/0.9', [], '0.9'],
  ['duplicateAuthorization', 'a second Authorization', [...HOST, 'Authorization', 'Bearer a', 'authorization', 'Bearer b']],
  // The usual spellings are matched without lower-casing: any other spelling must count the same.
  ['host', 'a second Host spelled hOsT', [...HOST, 'hOsT', 'evil.example']],
  ['duplicateContentLength', 'Content-Length and CONTENT-LENGTH', [...HOST, 'Content-Length', '1', 'CONTENT-LENGTH', '1']],
  ['lengthAndChunked', 'content-LENGTH with TRANSFER-encoding', [...HOST, 'content-LENGTH', '5', 'TRANSFER-encoding', 'chunked']],
  ['transferEncoding', 'TRANSFER-ENCODING: gzip', [...HOST, 'TRANSFER-ENCODING', 'gzip']],
  ['duplicateAuthorization', 'Authorization and AUTHORIZATION', [...HOST, 'Authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer b']],
  ['headerBytes', 'a bare CR in a value', [...HOST, 'X-A', 'a\rb']],
  ['headerBytes', 'a LF in a value', [...HOST, 'X-A', 'a\nb']],
  ['headerBytes', 'a NUL in a value', [...HOST, 'X-A', 'a\0b']],
];

for (const [reason, name, headers, version] of FAIL) {
  test(`fail-${reason}: ${name}`, () => {
    assert.deepEqual(checkRequestHead('POST', headers, version), { ok: false, reason: HEAD_REASONS[reason] });
  });
}

test('fail-method: a method that is not a token', () => {
  assert.deepEqual(checkRequestHead('GE T', HOST), { ok: false, reason: HEAD_REASONS.method });
});

// ---- which layer refuses what, over a raw socket ----

let server: Server;
let port: number;
const reached: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    reached.push(req.url ?? '');
    const head = checkRequestHead(req.method ?? '', req.rawHeaders, req.httpVersion);
    const target = normalizeTarget(req.url ?? '', 8192);
    const refused = !head.ok || !target.ok;
    res.writeHead(refused ? 400 : 200, { 'x-layer': refused ? 'gateway' : 'forwarded', connection: 'close' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** The status line and x-layer of the answer, or '' when Node closed without one. */
function send(request: string): Promise<{ status: number; layer: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk) => { text += chunk.toString('latin1'); });
    const done = () => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const layer = /\r\nx-layer: (\w+)/i.exec(text)?.[1] ?? (status === 0 ? 'closed' : 'node');
      resolve({ status, layer });
    };
    socket.on('close', done);
    socket.on('error', () => {});
    socket.end(Buffer.from(request, 'latin1'));
  });
}

const H = 'Host: gateway.example\r\n';
/** [name, request, who refuses it]: 'node' = Node's parser answers before any handler runs. */
const LAYERS: Array<[string, string, 'node' | 'gateway']> = [
  ['a control byte in the target', `GET /a\x01b HTTP/1.1\r\n${H}\r\n`, 'node'],
  ['a raw non-ASCII byte in the target', `GET /\xc3\xa9 HTTP/1.1\r\n${H}\r\n`, 'node'],
  ['a space in the target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 'node'],
  ['authority-form', `GET evil.example:443 HTTP/1.1\r\n${H}\r\n`, 'node'],
  ['no Host in HTTP/1.1', 'GET /a HTTP/1.1\r\n\r\n', 'node'],
  ['Content-Length with Transfer-Encoding', `POST /a HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'node'],
  ['two equal Content-Length headers', `POST /a HTTP/1.1\r\n${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`, 'node'],
  ['Content-Length: +1', `POST /a HTTP/1.1\r\n${H}Content-Length: +1\r\n\r\nx`, 'node'],
  ['Transfer-Encoding: chunked, chunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n`, 'node'],
  ['a bare CR in a header', `GET /a HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n`, 'node'],
  ['a bare LF line end', 'GET /a HTTP/1.1\nHost: gateway.example\n\n', 'node'],
  ['an obs-fold header line', `GET /a HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n`, 'node'],
  ['whitespace before a header colon', `GET /a HTTP/1.1\r\n${H}X-A : a\r\n\r\n`, 'node'],
  ['TRACK', `TRACK /a HTTP/1.1\r\n${H}\r\n`, 'node'],
  ['an unknown method', `FOO /a HTTP/1.1\r\n${H}\r\n`, 'node'],
  ['absolute-form', `GET http://evil.example/a HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['asterisk-form', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['a fragment', `GET /a#b HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['a backslash', `GET /a\\b HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['//', `GET //evil.example/a HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['a dot segment', `GET /a/../b HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['an encoded slash', `GET /a%2fb HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['a path parameter', `GET /a;x=1 HTTP/1.1\r\n${H}\r\n`, 'gateway'],
  ['a second Host', `GET /a HTTP/1.1\r\n${H}Host: evil.example\r\n\r\n`, 'gateway'],
  ['an empty Host', 'GET /a HTTP/1.1\r\nHost:\r\n\r\n', 'gateway'],
  ['a second Authorization', `GET /a HTTP/1.1\r\n${H}Authorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n`, 'gateway'],
  ['Transfer-Encoding: gzip, chunked', `POST /a HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 'gateway'],
  ['chunked HTTP/1.0', `POST /a HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 'gateway'],
  ['HTTP/0.9', 'GET /a\r\n\r\n', 'gateway'],
];

for (const [name, request, layer] of LAYERS) {
  test(`fail-layer-${layer}: ${name} → 400 from ${layer === 'node' ? "Node's parser" : 'the gateway checks'}`, async () => {
    reached.length = 0;
    const answer = await send(request);
    assert.equal(answer.status, 400);
    assert.equal(answer.layer, layer);
    if (layer === 'node') assert.deepEqual(reached, [], 'the handler must not run');
  });
}

test('fail-layer-both: Transfer-Encoding: identity reaches the handler, which refuses it before Node fails the body', async () => {
  reached.length = 0;
  const answer = await send(`POST /a HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\n\r\n`);
  assert.deepEqual(reached, ['/a']);
  assert.equal(answer.status, 400);
  assert.equal(answer.layer, 'gateway');
});

test('ok: a clean request passes both layers', async () => {
  assert.deepEqual(await send(`GET /a/b?c=d HTTP/1.1\r\n${H}\r\n`), { status: 200, layer: 'forwarded' });
});

test('fail-layer-node: CONNECT never reaches the request handler (without a connect listener Node closes the socket)', async () => {
  reached.length = 0;
  const answer = await send(`CONNECT evil.example:443 HTTP/1.1\r\n${H}\r\n`);
  assert.deepEqual(reached, []);
  assert.equal(answer.layer, 'closed');
});
