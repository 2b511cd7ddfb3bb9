/**
 * Stopping the Security Service: in-flight requests get http.shutdownTimeout to finish, a
 * kept-alive connection is closed as soon as its request is done, and whatever is still running
 * at the deadline has its connection cut, so a stop always ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { capturedLog, startService, type StartOptions } from './helpers/service.ts';

const BODY = 'grant_type=client_credentials&client_id=nobody&client_secret=wrong-secret';

/** A raw HTTP/1.1 client: sends the head of a token request and the first `sent` bytes of its body; records what comes back and when the connection ends. */
interface PartialRequest { socket: Socket; received: () => string; ended: Promise<void>; rest: () => void }

async function partialTokenRequest(url: string, sent: number): Promise<PartialRequest> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => { received += chunk; });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => { /* a cut connection: seen through `ended` */ });
  socket.write(`POST /oauth2/token HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${BODY.length}\r\n\r\n${BODY.slice(0, sent)}`);
  return { socket, received: () => received, ended, rest: () => socket.write(BODY.slice(sent)) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts a service, sends a token request whose body stops after 10 bytes, and stops the service
 * while that request is in flight; `duringStop` runs once the stop has begun. Resolves the client
 * and how long the stop took; the service's data directory goes either way.
 */
async function stopWithRequestInFlight(options: StartOptions, duringStop: (client: PartialRequest) => Promise<void>): Promise<{ client: PartialRequest; took: number }> {
  const svc = await startService(options);
  let closing: Promise<void> | undefined;
  try {
    const client = await partialTokenRequest(svc.url, 10);
    await sleep(100);
    const started = Date.now();
    closing = svc.service.close();
    await duringStop(client);
    await closing;
    return { client, took: Date.now() - started };
  } finally {
    if (closing === undefined) await svc.close();
    else {
      await closing;
      rmSync(svc.dataDir, { recursive: true, force: true });
    }
  }
}

test('ok: a request finishing during the stop gets its answer, and its kept-alive connection is closed then, not at the timeout', async () => {
  const { client, took } = await stopWithRequestInFlight({ config: { http: { shutdownTimeout: '5s' } } }, async (request) => {
    await sleep(300);
    request.rest();
  });
  assert.ok(took < 2000, `the stop took ${took} ms`);
  // The server may be gone before the client has read the answer: read it once the connection ended.
  await client.ended;
  assert.match(client.received(), /^HTTP\/1\.1 401 /, 'the request in flight was answered');
  assert.match(client.received(), /"error":"invalid_client"/);
});

test('ok: a request still in flight at http.shutdownTimeout has its connection cut; the stop ends and says so', async () => {
  const log = capturedLog();
  // The body never comes: without a deadline the stop would wait for it for ever.
  const { client, took } = await stopWithRequestInFlight({ config: { http: { shutdownTimeout: '1s' } }, logger: log.logger }, async () => {});
  assert.ok(took >= 900 && took < 5000, `the stop took ${took} ms`);
  await client.ended;
  assert.equal(client.received(), '', 'nothing was answered on the cut connection');
  const warning = log.lines.map((line) => JSON.parse(line) as { level: number; msg: string; shutdownTimeout?: number }).find((line) => line.msg === 'in-flight requests outlived the shutdown timeout; their connections are cut');
  assert.ok(warning, 'the cut is logged');
  assert.equal(warning.level, 40);
  assert.equal(warning.shutdownTimeout, 1);
});
