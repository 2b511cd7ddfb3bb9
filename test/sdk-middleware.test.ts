/**
 * The SDK's bearer middleware in the real frameworks — node:http, Express 5, Fastify 5 — with
 * real tokens from a real Security Service, and raw sockets where fetch cannot misbehave enough.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import * as oidc from 'openid-client';
import { createVerifier, nodeHttpAuth, expressAuth, fastifyAuth, type Identity, type Verifier, type BearerOptions } from '../src/sdk/index.ts';
import { startOAuthService, type OAuthFixture } from './oauth/helpers.ts';
import { freePort } from './helpers/service.ts';

interface App {
  url: string;
  close(): Promise<void>;
}

/** The same protected handler — answers with the caller's subject — in each framework. */
const frameworks: Record<string, (verifier: Verifier, options?: BearerOptions) => Promise<App>> = {
  'node:http': async (verifier, options) => {
    const authenticate = nodeHttpAuth(verifier, options);
    const server = createServer(async (req, res) => {
      const identity = await authenticate(req, res);
      if (!identity) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ subject: (req as { identity?: Identity }).identity?.subject, kind: identity.kind }));
    });
    return listen(server);
  },
  express: async (verifier, options) => {
    const app = express();
    app.use(expressAuth(verifier, options));
    app.get('/', (req, res) => {
      const identity = (req as unknown as { identity: Identity }).identity;
      res.json({ subject: identity.subject, kind: identity.kind });
    });
    return listen(createServer(app));
  },
  fastify: async (verifier, options) => {
    const app = Fastify();
    app.decorateRequest('identity', null);
    app.addHook('onRequest', fastifyAuth(verifier, options));
    app.get('/', async (request) => {
      const identity = (request as unknown as { identity: Identity }).identity;
      return { subject: identity.subject, kind: identity.kind };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  },
};

async function listen(server: Server): Promise<App> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A raw HTTP/1.1 request, so duplicate headers reach the server as sent. */
function rawRequest(url: string, headerLines: string[]): Promise<{ status: number; head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let data = '';
    socket.on('data', (chunk) => { data += chunk.toString('utf8'); });
    socket.on('end', () => {
      const [head = '', body = ''] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), head, body });
    });
    socket.on('error', reject);
    socket.write(['GET / HTTP/1.1', `Host: ${hostname}:${port}`, 'Connection: close', ...headerLines, '', ''].join('\r\n'));
  });
}

let fx: OAuthFixture;
let verifier: Verifier;
let serviceToken: string;

before(async () => {
  fx = await startOAuthService('sqlite');
  verifier = createVerifier({ issuer: fx.issuer, audience: fx.api });
  const config = await oidc.discovery(new URL(fx.issuer), 'orders-svc', undefined, oidc.ClientSecretBasic(fx.service.secret), { execute: [oidc.allowInsecureRequests] });
  serviceToken = (await oidc.clientCredentialsGrant(config, { scope: 'books:read' })).access_token;
});
after(async () => {
  await verifier.close();
  await fx.close();
});

for (const [name, start] of Object.entries(frameworks)) {
  describe(`bearer middleware in ${name}`, () => {
    let app: App;
    const refusals: Array<{ code: string; reason: string }> = [];
    before(async () => { app = await start(verifier, { onRefused: (r) => refusals.push(r) }); });
    after(() => app.close());

    test('ok: a valid token reaches the handler with the identity on the request', async () => {
      const res = await fetch(app.url, { headers: { authorization: `Bearer ${serviceToken}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { subject: 'orders-svc', kind: 'service' });
    });

    test('fail-missing: no Authorization → 401 with the bare Bearer challenge and problem JSON', async () => {
      const res = await fetch(app.url);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      const body = await res.json() as Record<string, unknown>;
      assert.equal(body.code, 'unauthorized');
      assert.equal(body.status, 401);
      assert.equal(body.type, 'urn:gatehouse:error:unauthorized');
    });

    test('fail-invalid-token: a tampered token → 401 invalid_token; the answer carries neither the token nor the reason', async () => {
      const [h, p, s] = serviceToken.split('.');
      const tampered = `${h}.${p}.${s!.slice(0, -4)}AAAA`;
      refusals.length = 0;
      const res = await fetch(app.url, { headers: { authorization: `Bearer ${tampered}` } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token"');
      const text = await res.text();
      assert.equal((JSON.parse(text) as { code: string }).code, 'invalid_token');
      assert.ok(!text.includes(tampered.slice(0, 20)) && !/signature/i.test(text));
      assert.match(refusals[0]?.reason ?? '', /signature/, 'the reason goes to onRefused');
    });

    test('fail-two-authorization-headers: → 400 invalid_request', async () => {
      const res = await rawRequest(app.url, [`Authorization: Bearer ${serviceToken}`, `Authorization: Bearer ${serviceToken}`]);
      assert.equal(res.status, 400);
      assert.match(res.head, /www-authenticate: Bearer realm="gatehouse", error="invalid_request"/i);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'invalid_request');
    });

    test('fail-other-scheme: Basic credentials → 400 invalid_request', async () => {
      const res = await fetch(app.url, { headers: { authorization: 'Basic b3JkZXJzOnNlY3JldA==' } });
      assert.equal(res.status, 400);
      assert.equal((await res.json() as { code: string }).code, 'invalid_request');
    });

    test('fail-malformed-bearer: a token with spaces or bad characters → 400 invalid_request', async () => {
      const res = await fetch(app.url, { headers: { authorization: 'Bearer a b' } });
      assert.equal(res.status, 400);
    });
  });
}

test('fail-keys-unavailable: before the issuer\'s keys ever loaded → 503 temporarily_unavailable with Retry-After', async () => {
  const nowhere = `http://127.0.0.1:${await freePort()}`;
  const offline = createVerifier({ issuer: nowhere, audience: `${nowhere}/api` });
  const app = await frameworks['node:http']!(offline);
  try {
    const res = await fetch(app.url, { headers: { authorization: `Bearer ${serviceToken}` } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.equal((await res.json() as { code: string }).code, 'temporarily_unavailable');
  } finally {
    await app.close();
    await offline.close();
  }
});
