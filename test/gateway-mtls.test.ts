/**
 * https upstreams: the gateway enrolls its own workload certificate with a join token and calls
 * services over mutual TLS, so a service built with the SDK's createMtlsServer can admit only the
 * gateway; an instance presenting another service's identity is refused (502).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import { chmodSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { workloadIdentity, createMtlsServer, mtlsAgent, type WorkloadIdentity } from '../src/sdk/index.ts';
import { startAuth, startGateway, type AuthFixture, type GatewayFixture } from './helpers/gateway.ts';

const TD = 'gatehouse.local';
let auth: AuthFixture;
let books: WorkloadIdentity;
let impostor: WorkloadIdentity;
let booksServer: Server;
let impostorServer: Server;
let gw: GatewayFixture;

const joinToken = async (service: string) => (await auth.svc.service.context.pki.mintJoinToken({ service, createdBy: 'test' })).token;
const identityFor = async (service: string) => workloadIdentity({ caUrl: auth.svc.service.tlsUrl!, service, joinToken: await joinToken(service), refreshInterval: 300 });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** An SDK mTLS server that admits only the gateway and echoes who called and with what token. */
function onlyTheGateway(identity: WorkloadIdentity): Server {
  return createMtlsServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ caller: req.spiffeId, authorization: req.headers.authorization ?? null }));
  }, { identity, allow: [{ spiffeId: `spiffe://${TD}/svc/gateway` }] });
}

before(async () => {
  auth = await startAuth();
  books = await identityFor('books');
  impostor = await identityFor('catalog');
  booksServer = onlyTheGateway(books);
  impostorServer = onlyTheGateway(impostor);
  const booksUrl = await listen(booksServer);
  const impostorUrl = await listen(impostorServer);
  gw = await startGateway(auth, {
    services: { books: [booksUrl], fake: [impostorUrl] },
    routes: [
      { methods: ['GET'], path: '/api/books', service: 'books' },
      { methods: ['GET'], path: '/api/fake', service: 'fake', auth: 'public' },
    ],
    gateway: { identity: { caUrl: auth.svc.service.tlsUrl! } },
    env: { GATEHOUSE_GATEWAY_JOIN_TOKEN: await joinToken('gateway') },
  });
});
after(async () => {
  await gw?.close();
  for (const server of [booksServer, impostorServer]) {
    server?.closeAllConnections();
    server?.close();
  }
  await books?.close();
  await impostor?.close();
  await auth?.close();
});

test('ok: the gateway calls an https upstream over mTLS as spiffe://…/svc/gateway, with the verified token', async () => {
  const token = await auth.token({ sub: auth.users.alice, roles: ['customer'] });
  const response = await fetch(`${gw.url}/api/books`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { caller: `spiffe://${TD}/svc/gateway`, authorization: `Bearer ${token}` });
});

test('fail-wrong-identity: an instance presenting another service\'s certificate is refused with 502', async () => {
  const response = await fetch(`${gw.url}/api/fake`);
  assert.equal(response.status, 502);
  assert.equal((await response.json() as { code: string }).code, 'bad_gateway');
  assert.ok(gw.logs.some((line) => line.msg === 'upstream call failed' && line.kind === 'tls'), 'the refusal is logged as a TLS failure');
});

test('fail-not-the-gateway: the service refuses any other workload calling it directly', async () => {
  const agent = mtlsAgent(impostor, { expect: `spiffe://${TD}/svc/books` });
  try {
    const address = booksServer.address() as AddressInfo;
    const response = await request(`https://127.0.0.1:${address.port}/api/books`, { dispatcher: agent });
    assert.equal(response.statusCode, 403);
    await response.body.dump();
  } finally {
    await agent.close();
  }
});

test('ok: /readyz counts the workload identity in', async () => {
  assert.equal((await fetch(`${gw.url}/readyz`)).status, 200);
});

test('fail-secret-file-mode: a join token file that others can read stops the start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-secret-'));
  const file = join(dir, 'join.token');
  writeFileSync(file, await joinToken('gateway'));
  chmodSync(file, 0o644);
  await assert.rejects(
    startGateway(auth, { services: { books: ['https://127.0.0.1:1'] }, routes: [{ methods: ['GET'], path: '/x', service: 'books', auth: 'public' }], gateway: { identity: { caUrl: auth.svc.service.tlsUrl!, joinTokenFile: file } }, waitReady: false }),
    /is accessible by group or others \(mode 0644\)/,
  );
});

test('fail-no-identity: https services without gateway.identity stop the start', async () => {
  await assert.rejects(
    startGateway(auth, { services: { books: ['https://127.0.0.1:1'] }, routes: [{ methods: ['GET'], path: '/x', service: 'books', auth: 'public' }], waitReady: false }),
    /need gateway\.identity/,
  );
});
