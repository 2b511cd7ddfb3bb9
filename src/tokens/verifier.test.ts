import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SignJWT, generateKeyPair } from 'jose';
import type { AddressInfo } from 'node:net';
import { openTestStore } from '../../test/helpers/store.ts';
import { configSchema } from '../config/index.ts';
import { createAuditLog } from '../events/audit.ts';
import { frozenClock } from '../shared/clock.ts';
import { createHttpApp } from '../shared/http.ts';
import { silentLogger } from '../shared/logger.ts';
import type { Store } from '../store/index.ts';
import { createKeyService, createAccessTokenVerifier, requireAccessToken, requireScope, type KeyService } from './index.ts';

const issuer = 'https://issuer.test';
const audience = 'https://api.test';
const clock = frozenClock(Date.now());
const masterKey = randomBytes(32);
let store: Store;
let close: () => Promise<void>;
let keys: KeyService;

const now = () => Math.floor(clock.now() / 1000);
const claims = (overrides: Record<string, unknown> = {}) => ({
  iss: issuer, sub: 'user-1', aud: audience, client_id: 'app', scope: 'openid events:read', roles: ['customer'], jti: randomBytes(8).toString('hex'), iat: now(), exp: now() + 600, ...overrides,
});
const newKeys = () => createKeyService({ store, masterKey, config: configSchema.parse({}), clock, audit: createAuditLog(store.db, clock) });
const verifier = () => createAccessTokenVerifier({ keys, issuer, clock });

before(async () => {
  ({ store, close } = await openTestStore('sqlite'));
  keys = newKeys();
  await keys.ensureKeys();
});
after(async () => { await close(); });

test('ok: a valid access token yields its claims', async () => {
  const token = await keys.sign(claims(), { typ: 'at+jwt' });
  const result = await verifier().verify(token, { audience });
  assert.equal(result.sub, 'user-1');
  assert.deepEqual(result.roles, ['customer']);
  assert.equal(result.client_id, 'app');
});

const refusals: Array<[string, () => Promise<string>]> = [
  ['fail-wrong-typ', () => keys.sign(claims(), { typ: 'JWT' })],
  ['fail-wrong-audience', () => keys.sign(claims({ aud: 'https://other.test' }), { typ: 'at+jwt' })],
  ['fail-wrong-issuer', () => keys.sign(claims({ iss: 'https://evil.test' }), { typ: 'at+jwt' })],
  ['fail-expired', () => keys.sign(claims({ iat: now() - 1200, exp: now() - 600 }), { typ: 'at+jwt' })],
  ['fail-future-iat', () => keys.sign(claims({ iat: now() + 3600, exp: now() + 4000 }), { typ: 'at+jwt' })],
  ['fail-century-long-exp', () => keys.sign(claims({ exp: now() + 100 * 365 * 86400 }), { typ: 'at+jwt' })],
  ['fail-missing-client-id', () => keys.sign(claims({ client_id: undefined }), { typ: 'at+jwt' })],
  ['fail-roles-not-strings', () => keys.sign(claims({ roles: [1] }), { typ: 'at+jwt' })],
  ['fail-foreign-key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const [active] = await keys.list();
    return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: active!.kid, typ: 'at+jwt' }).sign(privateKey);
  }],
  ['fail-unknown-kid', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    return new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'nope', typ: 'at+jwt' }).sign(privateKey);
  }],
  ['fail-garbage', async () => 'not.a.jwt'],
];
for (const [name, make] of refusals) {
  test(`${name}: refused as invalid_token without saying why`, async () => {
    const token = await make();
    await assert.rejects(verifier().verify(token, { audience }), (error: { code?: string; description?: string; headers?: Record<string, string> }) => {
      assert.equal(error.code, 'invalid_token');
      assert.equal(error.description, 'The access token is invalid or expired');
      assert.equal(error.headers?.['www-authenticate'], 'Bearer realm="gatehouse", error="invalid_token"');
      return true;
    });
  });
}

test('ok: inspect (introspection, revocation) accepts any audience and keeps every other check', async () => {
  const other = await keys.sign(claims({ aud: 'https://other.test', extra: 'kept' }), { typ: 'at+jwt' });
  const inspected = await verifier().inspect(other);
  assert.equal(inspected.claims.sub, 'user-1');
  assert.equal(inspected.payload.extra, 'kept');
  for (const name of ['fail-wrong-typ', 'fail-wrong-issuer', 'fail-expired', 'fail-future-iat', 'fail-century-long-exp', 'fail-foreign-key']) {
    const token = await refusals.find(([n]) => n === name)![1]();
    await assert.rejects(verifier().inspect(token), (error: { code?: string }) => error.code === 'invalid_token', name);
  }
});

test('ok: the verifier notices keys rotated by another process', async () => {
  const v = createAccessTokenVerifier({ keys, issuer, clock, unknownKidInterval: 0 });
  await v.verify(await keys.sign(claims(), { typ: 'at+jwt' }), { audience });
  const otherProcess = newKeys();
  await otherProcess.rotate('cli', { force: true });
  await otherProcess.rotate('cli', { force: true }); // twice: the active kid was never in the verifier's cache
  const token = await otherProcess.sign(claims(), { typ: 'at+jwt' });
  assert.equal((await v.verify(token, { audience })).sub, 'user-1');
});

test('ok/fail: requireAccessToken answers 401/400/403 with WWW-Authenticate and problem details', async () => {
  const app = createHttpApp({ logger: silentLogger(), bodyLimit: 1024 });
  const v = verifier();
  app.get('/needs-events', { preHandler: requireAccessToken({ verifier: v, audience, check: requireScope('events:read') }) }, async (request) => ({ sub: request.accessToken?.sub }));
  app.get('/needs-admin', { preHandler: requireAccessToken({ verifier: v, audience, check: requireScope('admin') }) }, async () => ({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const good = await keys.sign(claims(), { typ: 'at+jwt' });
    const ok = await fetch(`${base}/needs-events`, { headers: { authorization: `Bearer ${good}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { sub: 'user-1' });
    assert.equal((await fetch(`${base}/needs-events`, { headers: { authorization: `bearer ${good}` } })).status, 200, 'the scheme is case-insensitive');

    const missing = await fetch(`${base}/needs-events`);
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="gatehouse"');
    assert.equal(((await missing.json()) as { code: string }).code, 'unauthorized');

    const invalid = await fetch(`${base}/needs-events`, { headers: { authorization: 'Bearer abc.def.ghi' } });
    assert.equal(invalid.status, 401);
    assert.equal(invalid.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token"');
    assert.equal(invalid.headers.get('content-type'), 'application/problem+json; charset=utf-8');

    for (const header of ['Basic dXNlcjpwYXNz', `Bearer  ${good} x`, 'Bearer a,b']) {
      const malformed = await fetch(`${base}/needs-events`, { headers: { authorization: header } });
      assert.equal(malformed.status, 400, header);
      assert.equal(malformed.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_request"');
    }

    const scope = await fetch(`${base}/needs-admin`, { headers: { authorization: `Bearer ${good}` } });
    assert.equal(scope.status, 403);
    assert.equal(scope.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="insufficient_scope", scope="admin"');
    assert.equal(((await scope.json()) as { code: string }).code, 'insufficient_scope');
  } finally {
    await app.close();
  }
});

test('fail-duplicate-authorization: two Authorization headers are refused', async () => {
  const { request } = await import('node:http');
  const app = createHttpApp({ logger: silentLogger(), bodyLimit: 1024 });
  app.get('/x', { preHandler: requireAccessToken({ verifier: verifier(), audience }) }, async () => ({}));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const good = await keys.sign(claims(), { typ: 'at+jwt' });
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (app.server.address() as AddressInfo).port, path: '/x', headers: [['authorization', `Bearer ${good}`], ['authorization', 'Bearer other']] as unknown as Record<string, string> }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 400);
  } finally {
    await app.close();
  }
});
