/**
 * Calling upstreams over real sockets: bodies streamed both ways (5 MB), the body limit (413),
 * an unreachable upstream (502), a slow one (504), clients and upstreams that go away mid-call,
 * a stop bounded by gateway.shutdownTimeout, round-robin with ejection and recovery, retry only of
 * what never left the gateway.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startAuth, startGateway, startRecordingUpstream, rawExchange, waitFor, type AuthFixture, type GatewayFixture, type RecordingUpstream } from './helpers/gateway.ts';
import { freePort, listenOn } from './helpers/service.ts';

let auth: AuthFixture;

before(async () => { auth = await startAuth(); });
after(async () => { await auth?.close(); });

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A server that accepts connections and cuts them at once; counts them. */
async function slammingDoor(port = 0): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  let count = 0;
  const server: Server = createServer((socket) => { count += 1; socket.destroy(); });
  await listenOn(server, port);
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: () => count,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('bodies', () => {
  let api: RecordingUpstream;
  let gw: GatewayFixture;
  const download = randomBytes(5 * 1024 * 1024);
  before(async () => {
    api = await startRecordingUpstream((req) => (req.target === '/files/big' ? { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: download } : { status: 200, body: sha(req.body) }));
    gw = await startGateway(auth, {
      services: { files: [api.url] },
      routes: [{ methods: ['GET', 'POST', 'PUT'], path: '/files/**', service: 'files', auth: 'public' }],
      gateway: { bodyLimit: 6 * 1024 * 1024 },
    });
  });
  after(async () => {
    await gw?.close();
    await api?.close();
  });

  test('ok: a 5 MB upload reaches the upstream intact', async () => {
    const upload = randomBytes(5 * 1024 * 1024);
    const response = await request(`${gw.url}/files/upload`, { method: 'PUT', body: upload });
    assert.equal(response.statusCode, 200);
    assert.equal(await response.body.text(), sha(upload));
    assert.equal(api.requests.at(-1)!.header('content-length')[0], String(upload.length));
  });

  test('ok: a chunked upload of unknown length is streamed through', async () => {
    const parts = [randomBytes(300_000), randomBytes(700_000)];
    async function* body() { for (const part of parts) yield part; }
    const response = await request(`${gw.url}/files/stream`, { method: 'POST', body: Readable.from(body()) });
    assert.equal(response.statusCode, 200);
    assert.equal(await response.body.text(), sha(Buffer.concat(parts)));
  });

  test('ok: a 5 MB download reaches the client intact', async () => {
    const response = await request(`${gw.url}/files/big`);
    assert.equal(response.statusCode, 200);
    assert.equal(sha(Buffer.from(await response.body.arrayBuffer())), sha(download));
  });

  test('fail-body-too-large: a declared Content-Length above bodyLimit is 413 and never forwarded', async () => {
    const before = api.requests.length;
    const response = await request(`${gw.url}/files/upload`, { method: 'PUT', body: randomBytes(7 * 1024 * 1024) });
    assert.equal(response.statusCode, 413);
    assert.equal((await response.body.json() as { code: string }).code, 'body_too_large');
    assert.equal(api.requests.length, before);
  });

  test('fail-body-too-large: with Expect: 100-continue a body that would be refused is never invited', async () => {
    const raw = await rawExchange(gw.url, `PUT /files/upload HTTP/1.1\r\nHost: x\r\nContent-Length: ${20 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(raw, /100 Continue/);
  });

  test('ok: with Expect: 100-continue an accepted request is invited to send its body', async () => {
    const socket = connect(Number(new URL(gw.url).port), '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk) => {
      received.push(chunk);
      if (Buffer.concat(received).toString().startsWith('HTTP/1.1 100 Continue\r\n\r\n') && received.length === 1) socket.write('hello');
    });
    socket.write('PUT /files/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    await waitFor(() => /HTTP\/1\.1 200 /.test(Buffer.concat(received).toString()));
    socket.destroy();
    assert.equal(api.requests.at(-1)!.body.toString(), 'hello');
    assert.deepEqual(api.requests.at(-1)!.header('expect'), []);
  });

  test('fail-body-too-large: a chunked body that grows past bodyLimit is 413 and never completed upstream', async () => {
    const before = api.requests.length;
    async function* body() { for (let i = 0; i < 8; i++) yield randomBytes(1024 * 1024); }
    const response = await request(`${gw.url}/files/stream`, { method: 'POST', body: Readable.from(body()) }).catch((error: Error) => error);
    if (!(response instanceof Error)) assert.equal(response.statusCode, 413);
    assert.equal(api.requests.length, before);
  });
});

describe('failures', () => {
  test('fail-upstream-down: an instance that refuses connections is 502 problem details that say nothing about it', async () => {
    const port = await freePort();
    const gw = await startGateway(auth, { services: { down: [`http://127.0.0.1:${port}`] }, routes: [{ methods: ['GET'], path: '/down', service: 'down', auth: 'public' }] });
    try {
      const response = await fetch(`${gw.url}/down`);
      assert.equal(response.status, 502);
      assert.equal(response.headers.get('content-type'), 'application/problem+json');
      const text = await response.text();
      assert.equal(JSON.parse(text).code, 'bad_gateway');
      assert.ok(!text.includes(String(port)) && !/ECONN|127\.0\.0\.1/.test(text), text);
      assert.ok(gw.logs.some((line) => line.msg === 'upstream call failed' && line.instance === `http://127.0.0.1:${port}`), 'the log names the instance');
    } finally {
      await gw.close();
    }
  });

  test('fail-upstream-slow: no response headers within the route timeout is 504', async () => {
    const slow = await startRecordingUpstream(() => 'hang');
    const gw = await startGateway(auth, { services: { slow: [slow.url] }, routes: [{ methods: ['GET'], path: '/slow', service: 'slow', auth: 'public', timeout: '1s' }] });
    try {
      const started = Date.now();
      const response = await fetch(`${gw.url}/slow`);
      assert.equal(response.status, 504);
      assert.equal((await response.json() as { code: string }).code, 'gateway_timeout');
      assert.ok(Date.now() - started >= 900, 'answered before the timeout');
    } finally {
      await gw.close();
      await slow.close();
    }
  });
});

/**
 * An upstream whose every request is handed to `handler`; `closed` counts the requests whose
 * connection closed before the upstream ended its response (the gateway gave up on them).
 */
async function controlledUpstream(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  let received = 0;
  let closed = 0;
  const server = createHttpServer((req, res) => {
    received += 1;
    res.once('close', () => { if (!res.writableFinished) closed += 1; });
    handler(req, res);
  });
  await listenOn(server, 0);
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received: () => received,
    closed: () => closed,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Sends a GET for `path` on a raw socket, waits until `until()` holds, then drops the connection. */
async function requestThenLeave(gatewayUrl: string, path: string, until: () => boolean): Promise<void> {
  const { port } = new URL(gatewayUrl);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => {});
  socket.write(`GET ${path} HTTP/1.1\r\nHost: shop.test\r\n\r\n`);
  await waitFor(until, 5000, 'the upstream never saw the request');
  socket.destroy();
}

describe('clients and upstreams that go away', () => {
  test('ok: a client that leaves while the upstream prepares its answer aborts the upstream call, long before the route timeout', async () => {
    const api = await controlledUpstream(() => { /* never answers */ });
    const gw = await startGateway(auth, { services: { slow: [api.url] }, routes: [{ methods: ['GET'], path: '/slow', service: 'slow', auth: 'public', timeout: '60s' }] });
    try {
      await requestThenLeave(gw.url, '/slow', () => api.received() === 1);
      await waitFor(() => api.closed() === 1, 3000, 'the upstream call was left running after its client went away');
    } finally {
      await gw.close();
      await api.close();
    }
  });

  test('ok: a client that leaves mid-download aborts the upstream stream, and the gateway goes on serving', async () => {
    const timers = new Set<NodeJS.Timeout>();
    const api = await controlledUpstream((req, res) => {
      if (req.url === '/feed/small') { res.end('small'); return; }
      // An endless body, a chunk every 10 ms.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(randomBytes(16 * 1024)), 10);
      timers.add(timer);
      res.once('close', () => clearInterval(timer));
    });
    const gw = await startGateway(auth, { services: { feed: [api.url] }, routes: [{ methods: ['GET'], path: '/feed/**', service: 'feed', auth: 'public' }], gateway: { upstream: { connections: 2 } } });
    try {
      for (let i = 1; i <= 3; i++) {
        await requestThenLeave(gw.url, '/feed/endless', () => api.received() === i);
        await waitFor(() => api.closed() === i, 3000, 'the upstream stream was left running after its client went away');
      }
      // Three calls gone on a pool of two connections: none of them is held.
      const response = await fetch(`${gw.url}/feed/small`, { signal: AbortSignal.timeout(3000) });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'small');
    } finally {
      for (const timer of timers) clearInterval(timer);
      await gw.close();
      await api.close();
    }
  });

  test('fail-upstream-mid-body: an upstream that dies mid-body cuts the client\'s connection: never a clean, short answer', async () => {
    const api = await controlledUpstream((req, res) => {
      if (req.url === '/half/ok') { res.end('whole'); return; }
      res.writeHead(200, { 'content-length': '100000' });
      res.write(Buffer.alloc(1000, 1), () => res.destroy());
    });
    const gw = await startGateway(auth, { services: { half: [api.url] }, routes: [{ methods: ['GET'], path: '/half/**', service: 'half', auth: 'public' }] });
    try {
      const outcome = await request(`${gw.url}/half/cut`).then((response) => response.body.arrayBuffer()).then(
        (body) => `completed with ${body.byteLength} bytes`,
        (error: Error) => error,
      );
      assert.ok(outcome instanceof Error, `the client saw ${String(outcome)}`);
      const response = await request(`${gw.url}/half/ok`);
      assert.equal(response.statusCode, 200);
      assert.equal(await response.body.text(), 'whole');
    } finally {
      await gw.close();
      await api.close();
    }
  });
});

describe('stopping', () => {
  test('ok: a stop lets an in-flight request finish within gateway.shutdownTimeout', async () => {
    const api = await controlledUpstream((_req, res) => { setTimeout(() => res.end('finished'), 300); });
    const gw = await startGateway(auth, { services: { slow: [api.url] }, routes: [{ methods: ['GET'], path: '/slow', service: 'slow', auth: 'public' }], gateway: { shutdownTimeout: '5s' } });
    let closing: Promise<void> | undefined;
    try {
      const answer = request(`${gw.url}/slow`).then(async (response) => `${response.statusCode} ${await response.body.text()}`);
      await waitFor(() => api.received() === 1);
      const started = Date.now();
      closing = gw.close();
      assert.equal(await answer, '200 finished');
      await closing;
      assert.equal(api.closed(), 0);
      // The client's kept-alive connection is closed once its request is done, not held until the timeout.
      const took = Date.now() - started;
      assert.ok(took < 2000, `the stop took ${took} ms`);
    } finally {
      await (closing ?? gw.close());
      await api.close();
    }
  });

  test('ok: a request still running at gateway.shutdownTimeout has its connection cut and its upstream call aborted; the stop ends', async () => {
    const api = await controlledUpstream(() => { /* never answers */ });
    const gw = await startGateway(auth, { services: { slow: [api.url] }, routes: [{ methods: ['GET'], path: '/slow', service: 'slow', auth: 'public', timeout: '60s' }], gateway: { shutdownTimeout: '1s' } });
    let closing: Promise<void> | undefined;
    try {
      const answer = request(`${gw.url}/slow`).then((response) => `answered ${response.statusCode}`, (error: Error) => error);
      await waitFor(() => api.received() === 1);
      const started = Date.now();
      closing = gw.close();
      await closing;
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 5000, `the stop took ${took} ms`);
      assert.ok(await answer instanceof Error, 'the client\'s connection was cut');
      await waitFor(() => api.closed() === 1, 3000, 'the upstream call was left running');
      assert.ok(gw.logs.some((line) => line.msg === 'in-flight requests outlived the shutdown timeout; their connections are cut'));
    } finally {
      await (closing ?? gw.close());
      await api.close();
    }
  });
});

describe('balancing', () => {
  test('ok: requests go round-robin over the instances', async () => {
    const a = await startRecordingUpstream();
    const b = await startRecordingUpstream();
    const gw = await startGateway(auth, { services: { s: [a.url, b.url] }, routes: [{ methods: ['GET'], path: '/rr', service: 's', auth: 'public' }] });
    try {
      for (let i = 0; i < 6; i++) assert.equal((await fetch(`${gw.url}/rr`)).status, 200);
      assert.equal(a.requests.length, 3);
      assert.equal(b.requests.length, 3);
    } finally {
      await gw.close();
      await a.close();
      await b.close();
    }
  });

  test('ok: a failing instance is ejected after ejectAfter failures and tried again after ejectFor', async () => {
    const good = await startRecordingUpstream();
    const bad = await slammingDoor();
    const gw = await startGateway(auth, {
      services: { s: [bad.url, good.url] },
      routes: [{ methods: ['GET'], path: '/rr', service: 's', auth: 'public' }],
      gateway: { upstream: { ejectAfter: 2, ejectFor: '1s' } },
    });
    try {
      for (let i = 0; i < 6; i++) assert.equal((await fetch(`${gw.url}/rr`)).status, 200, 'an idempotent request is retried on the next instance');
      const afterEjection = bad.connections();
      assert.ok(afterEjection >= 2, `bad instance tried ${afterEjection} times`);
      for (let i = 0; i < 4; i++) assert.equal((await fetch(`${gw.url}/rr`)).status, 200);
      assert.equal(bad.connections(), afterEjection, 'an ejected instance is not tried');
      assert.match(await (await fetch(`${gw.url}/metrics`)).text(), /gatehouse_gateway_upstream_ejections_total\{service="s"\} 1/);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await waitFor(async () => { await fetch(`${gw.url}/rr`); return bad.connections() > afterEjection; }, 3000, 'the instance never came back into rotation');
    } finally {
      await gw.close();
      await good.close();
      await bad.close();
    }
  });

  test('fail-not-idempotent: a POST that failed on one instance is not retried on another', async () => {
    const good = await startRecordingUpstream();
    const bad = await slammingDoor();
    const gw = await startGateway(auth, { services: { s: [bad.url, good.url] }, routes: [{ methods: ['GET', 'POST'], path: '/rr', service: 's', auth: 'public' }], gateway: { upstream: { ejectAfter: 10 } } });
    try {
      assert.equal((await fetch(`${gw.url}/rr`, { method: 'POST', body: 'x' })).status, 502);
      assert.equal(good.requests.length, 0);
    } finally {
      await gw.close();
      await good.close();
      await bad.close();
    }
  });

  test('ok: when every instance is ejected they are tried anyway (ejection fails open)', async () => {
    const port = await freePort();
    const gw = await startGateway(auth, { services: { s: [`http://127.0.0.1:${port}`] }, routes: [{ methods: ['GET'], path: '/rr', service: 's', auth: 'public' }], gateway: { upstream: { ejectAfter: 1, ejectFor: '10m' } } });
    try {
      assert.equal((await fetch(`${gw.url}/rr`)).status, 502);
      const again = await startRecordingUpstreamOn(port);
      try {
        assert.equal((await fetch(`${gw.url}/rr`)).status, 200);
      } finally {
        await again.close();
      }
    } finally {
      await gw.close();
    }
  });
});

/** A recording upstream on a chosen port. */
async function startRecordingUpstreamOn(port: number): Promise<{ close(): Promise<void> }> {
  const server = createServer((socket) => {
    socket.on('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
    socket.on('error', () => {});
  });
  await listenOn(server, port);
  return { close: () => new Promise((resolve) => server.close(() => resolve())) };
}
