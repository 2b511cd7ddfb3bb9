/**
 * Personal API tokens through the admin API (the same service as the CLI and the account page):
 * create (shown once, stored as a digest), list (never the token), revoke; the creation rules
 * (scopes the owner holds, a bounded expiry, unique names) as 422/409 with nothing persisted.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { sha256Hex } from '../src/shared/random.ts';

await forEachDialect('admin api: personal API tokens', (dialect) => {
  let svc: TestService;
  let admin: string;
  let adminId: string;
  let aliceId: string;

  const mint = (sub: string, roles: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    return svc.service.context.keys.sign(
      { iss: svc.config.issuer, sub, aud: svc.config.issuer, client_id: 'admin-console', roles, jti: randomUUID(), iat: now, exp: now + 300, scope: 'openid admin' },
      { typ: 'at+jwt' },
    );
  };
  const call = (method: string, path: string, body?: unknown, token = admin) =>
    fetch(`${svc.url}/admin/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const json = async (res: Response) => (await res.json()) as Record<string, any>;
  const rowCount = async () => Number((await svc.service.context.store.db.selectFrom('api_tokens').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst())?.n ?? 0);

  before(async () => {
    svc = await startService({ dialect, config: { apiTokens: { maxTtl: '90d' } } });
    const users = svc.service.context.users;
    adminId = (await users.create({ username: 'root-admin', email: 'root@example.com', roles: ['admin'] }, 'test')).id;
    aliceId = (await users.create({ username: 'alice', email: 'alice@example.com', roles: ['customer'] }, 'test')).id;
    admin = await mint(adminId, ['admin']);
  });
  after(async () => { await svc.close(); });

  test('ok: create answers 201 with the token once; only its SHA-256 digest is stored; audited api_token.created', async () => {
    const res = await call('POST', '/users/alice/api-tokens', { name: 'ci', scopes: ['orders:read'], expiresIn: 30 * 86400 });
    assert.equal(res.status, 201);
    const body = await json(res);
    assert.match(body.token, /^gth_[0-9A-Za-z]{36}$/);
    assert.equal(body.summary.name, 'ci');
    assert.deepEqual(body.summary.scopes, ['orders:read']);
    assert.equal(body.summary.expiresAt - body.summary.createdAt, 30 * 86400);
    const row = await svc.service.context.store.db.selectFrom('api_tokens').selectAll().where('id', '=', body.summary.id).executeTakeFirstOrThrow();
    assert.equal(row.digest, sha256Hex(body.token));
    assert.ok(!JSON.stringify(row).includes(body.token));
    const audit = await svc.service.context.audit.list({ event: 'api_token.created', latest: true, limit: 1 });
    assert.equal(audit[0]?.subject, aliceId);
    assert.equal(audit[0]?.actor, `user:${adminId}`);
    assert.equal(audit[0]?.data?.apiTokenId, body.summary.id);
    assert.ok(!JSON.stringify(audit).includes(body.token), 'the audit row never holds the token');
  });

  test('ok: list shows the user\'s live tokens without the token itself', async () => {
    const created = await json(await call('POST', '/users/alice/api-tokens', { name: 'laptop', scopes: ['books:read'], expiresIn: 3600 }));
    const res = await call('GET', `/users/${aliceId}/api-tokens`);
    assert.equal(res.status, 200);
    const { apiTokens } = await json(res);
    assert.ok(apiTokens.some((t: { id: string; name: string }) => t.id === created.summary.id && t.name === 'laptop'));
    assert.ok(!JSON.stringify(apiTokens).includes(created.token));
    assert.ok(apiTokens.every((t: Record<string, unknown>) => !('digest' in t)));
  });

  test('ok: revoke answers 204, the token leaves the list, audited api_token.revoked by the admin; again → 404', async () => {
    const created = await json(await call('POST', '/users/alice/api-tokens', { name: 'old', scopes: ['books:read'], expiresIn: 3600 }));
    assert.equal((await call('DELETE', `/users/alice/api-tokens/${created.summary.id}`)).status, 204);
    const { apiTokens } = await json(await call('GET', '/users/alice/api-tokens'));
    assert.ok(!apiTokens.some((t: { id: string }) => t.id === created.summary.id));
    const audit = await svc.service.context.audit.list({ event: 'api_token.revoked', latest: true, limit: 1 });
    assert.equal(audit[0]?.reason, 'revoked_by_admin');
    assert.equal(audit[0]?.data?.apiTokenId, created.summary.id);
    assert.equal((await call('DELETE', `/users/alice/api-tokens/${created.summary.id}`)).status, 404);
  });

  test('fail-other-owner: a token id under another user is 404 and stays live', async () => {
    const created = await json(await call('POST', '/users/alice/api-tokens', { name: 'mine', scopes: ['books:read'], expiresIn: 3600 }));
    assert.equal((await call('DELETE', `/users/root-admin/api-tokens/${created.summary.id}`)).status, 404);
    assert.ok((await svc.service.context.apiTokens.list(aliceId)).some((t) => t.id === created.summary.id));
  });

  test('fail-scope-not-held: a scope covering none of the owner\'s permissions → 422 naming it, nothing stored', async () => {
    const rows = await rowCount();
    const res = await call('POST', '/users/alice/api-tokens', { name: 'refunds', scopes: ['orders:read', 'orders:refund'], expiresIn: 3600 });
    assert.equal(res.status, 422);
    const problem = await json(res);
    assert.equal(problem.code, 'validation_failed');
    assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), ['scopes']);
    assert.match(problem.errors[0].message, /orders:refund/);
    assert.doesNotMatch(problem.errors[0].message, /orders:read\b/);
    assert.equal(await rowCount(), rows);
  });

  test('fail-validation: expiry beyond apiTokens.maxTtl, a malformed scope, no scopes, unknown keys → 422', async () => {
    const rows = await rowCount();
    for (const body of [
      { name: 'long', scopes: ['books:read'], expiresIn: 91 * 86400 },
      { name: 'short', scopes: ['books:read'], expiresIn: 5 },
      { name: 'bad', scopes: ['Books Read'], expiresIn: 3600 },
      { name: 'none', scopes: [], expiresIn: 3600 },
      { name: 'extra', scopes: ['books:read'], expiresIn: 3600, owner: 'bob' },
      { scopes: ['books:read'], expiresIn: 3600 },
    ]) {
      const res = await call('POST', '/users/alice/api-tokens', body);
      assert.equal(res.status, 422, JSON.stringify(body));
      assert.equal((await json(res)).code, 'validation_failed');
    }
    assert.equal(await rowCount(), rows);
  });

  test('fail-duplicate-name: a second live token with the same name → 409; after revoking, the name is free', async () => {
    const first = await json(await call('POST', '/users/alice/api-tokens', { name: 'dup', scopes: ['books:read'], expiresIn: 3600 }));
    const again = await call('POST', '/users/alice/api-tokens', { name: 'dup', scopes: ['books:read'], expiresIn: 3600 });
    assert.equal(again.status, 409);
    assert.equal((await json(again)).code, 'conflict');
    assert.equal((await call('DELETE', `/users/alice/api-tokens/${first.summary.id}`)).status, 204);
    assert.equal((await call('POST', '/users/alice/api-tokens', { name: 'dup', scopes: ['books:read'], expiresIn: 3600 })).status, 201);
  });

  test('fail-duplicate-name-race: eight creations of one name at once → exactly one made, the others conflict (409), one row', async () => {
    const before = await rowCount();
    // Straight to the service, so the creations' transactions overlap as much as they can.
    const tokens = svc.service.context.apiTokens;
    const answers = await Promise.allSettled(Array.from({ length: 8 }, () => tokens.create({ userId: aliceId, name: 'raced', scopes: ['books:read'], expiresIn: 3600 }, 'test')));
    assert.deepEqual(answers.map((a) => (a.status === 'fulfilled' ? 'created' : (a.reason as { code?: string }).code)).sort(), ['conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'conflict', 'created']);
    assert.equal(await rowCount(), before + 1);
  });

  test('ok: an expired token frees its name; the old token is still refused as expired', async () => {
    const old = await json(await call('POST', '/users/alice/api-tokens', { name: 'nightly', scopes: ['books:read'], expiresIn: 3600 }));
    const db = svc.service.context.store.db;
    await db.updateTable('api_tokens').set({ expires_at: Math.floor(Date.now() / 1000) - 1 }).where('id', '=', old.summary.id).execute();
    assert.equal((await call('POST', '/users/alice/api-tokens', { name: 'nightly', scopes: ['books:read'], expiresIn: 3600 })).status, 201);
    const lookup = await svc.service.context.apiTokens.lookupForExchange(old.token, {});
    assert.deepEqual(lookup.ok ? 'ok' : lookup.reason, 'expired');
  });

  test('fail-unknown-user: 404', async () => {
    assert.equal((await call('POST', '/users/nobody/api-tokens', { name: 'x', scopes: ['books:read'], expiresIn: 3600 })).status, 404);
    assert.equal((await call('GET', '/users/nobody/api-tokens')).status, 404);
  });

  test('fail-forbidden: a user without the admin role cannot manage tokens, not even their own', async () => {
    const own = await mint(aliceId, ['customer']);
    assert.equal((await call('GET', '/users/alice/api-tokens', undefined, own)).status, 403);
    assert.equal((await call('POST', '/users/alice/api-tokens', { name: 'self', scopes: ['books:read'], expiresIn: 3600 }, own)).status, 403);
  });

  test('ok: the OpenAPI document lists the API token routes', async () => {
    const doc = await json(await fetch(`${svc.url}/admin/api/openapi.json`));
    assert.ok(doc.paths['/admin/api/users/{user}/api-tokens'].post);
    assert.ok(doc.paths['/admin/api/users/{user}/api-tokens/{tokenId}'].delete);
    assert.equal(doc.paths['/admin/api/users/{user}/api-tokens'].get.operationId, 'getUsersApiTokens');
    assert.deepEqual(doc.components.schemas.CreateApiToken.required.sort(), ['expiresIn', 'name', 'scopes']);
  });
});
