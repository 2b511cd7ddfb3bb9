/** Admin API over real HTTP: bearer + admin role, CRUD through the same services as the CLI, edge validation, OpenAPI. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { adminRoutes } from '../src/admin/index.ts';

await forEachDialect('admin api', (dialect) => {
  let svc: TestService;
  let admin: string;
  let customer: string;
  let otherAudience: string;
  let adminId: string;
  let customerId: string;

  /** An access token as the OAuth component mints it for `sub` (a real user, so the admin API lets it in). */
  const mint = (sub: string, roles: string[], options: { aud?: string; scope?: string } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const context = svc.service.context;
    return context.keys.sign(
      { iss: svc.config.issuer, sub, aud: options.aud ?? svc.config.issuer, client_id: 'admin-console', roles, jti: randomUUID(), iat: now, exp: now + 300, scope: options.scope ?? 'openid admin' },
      { typ: 'at+jwt' },
    );
  };
  const user = async (username: string, roles: string[]) => (await svc.service.context.users.create({ username, email: `${username}@example.com`, roles }, 'test')).id;

  const call = (method: string, path: string, options: { token?: string; body?: unknown; raw?: string; type?: string } = {}) => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined || options.raw !== undefined) {
      headers['content-type'] = options.type ?? 'application/json';
      body = options.raw ?? JSON.stringify(options.body);
    }
    return fetch(`${svc.url}/admin/api${path}`, { method, headers, body });
  };
  const json = async (res: Response) => (await res.json()) as Record<string, any>;
  const denials = async () => (await svc.service.context.audit.list({ event: 'admin.denied' })).length;

  before(async () => {
    svc = await startService({ dialect });
    adminId = await user('root-admin', ['admin']);
    customerId = await user('cora-customer', ['customer']);
    admin = await mint(adminId, ['admin']);
    customer = await mint(customerId, ['customer']);
    otherAudience = await mint(adminId, ['admin'], { aud: `${svc.config.issuer}/api` });
  });
  after(async () => { await svc.close(); });

  test('fail-unauthorized: no token → 401 with a Bearer challenge, audited', async () => {
    const before = await denials();
    const res = await call('GET', '/users');
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.equal((await json(res)).code, 'unauthorized');
    assert.equal(await denials(), before + 1);
  });

  test('fail-invalid-token: garbage or another audience → 401 invalid_token', async () => {
    for (const token of ['abc.def.ghi', otherAudience]) {
      const res = await call('GET', '/users', { token });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });

  test('fail-forbidden: a token without the admin role → 403 insufficient_scope, audited with its subject', async () => {
    const res = await call('POST', '/users', { token: customer, body: { username: 'mallory', email: 'm@example.com' } });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    const last = (await svc.service.context.audit.list({ event: 'admin.denied' })).at(-1)!;
    assert.equal(last.actor, `user:${customerId}`);
    assert.equal(last.subject, 'POST /admin/api/users');
    assert.equal(last.reason, 'insufficient_scope');
    assert.equal((await call('GET', '/users/mallory', { token: admin })).status, 404);
  });

  test('fail-forbidden: a refusal is audited under the route it matched, however the path was spelled', async () => {
    const res = await fetch(`${svc.url}/admin/%61pi/users/%6dallory/disable`, { method: 'POST', headers: { authorization: `Bearer ${customer}` } });
    assert.equal(res.status, 403);
    const last = (await svc.service.context.audit.list({ event: 'admin.denied' })).at(-1)!;
    assert.equal(last.subject, 'POST /admin/api/users/:user/disable');
    assert.equal(last.data?.path, '/admin/%61pi/users/%6dallory/disable');
  });

  test('fail-insufficient-scope: the admin role without the admin scope (e.g. only events:read) → 403', async () => {
    const token = await mint(adminId, ['admin'], { scope: 'events:read' });
    const res = await call('GET', '/users', { token });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="insufficient_scope", scope="admin"');
    assert.equal((await json(res)).code, 'insufficient_scope');
  });

  test('fail-disabled: an admin disabled after the token was issued → the same token is 401 invalid_token', async () => {
    const id = await user('temp-admin', ['admin']);
    const token = await mint(id, ['admin']);
    assert.equal((await call('GET', '/users', { token })).status, 200);
    await svc.service.context.users.disable(id, 'test');
    const res = await call('GET', '/users', { token });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    assert.equal((await json(res)).code, 'invalid_token');
    const last = (await svc.service.context.audit.list({ event: 'admin.denied' })).at(-1)!;
    assert.deepEqual([last.actor, last.reason], [`user:${id}`, 'invalid_token']);
    // A token for a subject that is no user at all fares no better.
    assert.equal((await call('GET', '/users', { token: await mint('no-such-user', ['admin']) })).status, 401);
  });

  test('fail-demoted: an admin whose admin role was revoked → the same token is refused at once, audited', async () => {
    const id = await user('demoted-admin', ['admin']);
    const token = await mint(id, ['admin']);
    assert.equal((await call('GET', '/users', { token })).status, 200);
    await svc.service.context.users.revokeRole(id, 'admin', 'test');
    const res = await call('GET', '/users', { token });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    const last = (await svc.service.context.audit.list({ event: 'admin.denied' })).at(-1)!;
    assert.deepEqual([last.actor, last.reason], [`user:${id}`, 'insufficient_scope']);
  });

  test('fail-demoted-grant: a demoted admin cannot grant the admin role to anyone', async () => {
    const id = await user('ex-admin', ['admin']);
    const accomplice = await user('accomplice', ['customer']);
    const token = await mint(id, ['admin']);
    await svc.service.context.users.revokeRole(id, 'admin', 'test');
    for (const target of [accomplice, id]) {
      const res = await call('POST', `/users/${target}/roles`, { token, body: { role: 'admin' } });
      assert.equal(res.status, 403);
      assert.deepEqual((await svc.service.context.users.find(target)).roles.includes('admin'), false);
    }
  });

  test('ok: users — create, list, show, disable, enable, password, grant, revoke', async () => {
    const created = await call('POST', '/users', { token: admin, body: { username: 'alice', email: 'alice@example.com', password: 'correct horse battery staple', roles: ['customer'] } });
    assert.equal(created.status, 201);
    const alice = await json(created);
    assert.deepEqual({ username: alice.username, status: alice.status, roles: alice.roles }, { username: 'alice', status: 'active', roles: ['customer'] });
    assert.equal('passwordHash' in alice || JSON.stringify(alice).includes('argon2'), false);

    const list = await json(await call('GET', '/users', { token: admin }));
    assert.ok(list.users.some((u: { id: string }) => u.id === alice.id));
    assert.equal((await json(await call('GET', '/users/ALICE', { token: admin }))).id, alice.id);

    assert.equal((await json(await call('POST', `/users/${alice.id}/disable`, { token: admin }))).status, 'disabled');
    assert.equal((await json(await call('POST', '/users/alice/enable', { token: admin }))).status, 'active');

    const changed = await call('PUT', '/users/alice/password', { token: admin, body: { password: 'another long passphrase here' } });
    assert.equal(changed.status, 200);
    assert.equal((await svc.service.context.authenticator.authenticate({ username: 'alice', password: 'another long passphrase here', ip: '127.0.0.1' })).ok, true);

    assert.deepEqual((await json(await call('POST', '/users/alice/roles', { token: admin, body: { role: 'staff' } }))).roles, ['customer', 'staff']);
    assert.deepEqual((await json(await call('DELETE', '/users/alice/roles/customer', { token: admin }))).roles, ['staff']);
    const audit = await svc.service.context.audit.list({ subject: alice.id });
    // grant.revoked: disable and password change revoked the user's tokens through the OAuth component
    assert.deepEqual(audit.map((e) => e.event), ['user.created', 'user.disabled', 'grant.revoked', 'user.enabled', 'password.changed', 'grant.revoked', 'login.succeeded', 'role.granted', 'role.revoked', 'grant.revoked']);
    assert.equal(audit.at(-1)!.reason, 'role_revoked');
    assert.equal(audit[0]!.actor, `user:${adminId}`);
  });

  test('fail-validation: 422 with one error per failing field, nothing created', async () => {
    const res = await call('POST', '/users', { token: admin, body: { username: 'a', email: 'nope', extra: 1 } });
    assert.equal(res.status, 422);
    const problem = await json(res);
    assert.equal(problem.code, 'validation_failed');
    const paths = (problem.errors as Array<{ path: string }>).map((e) => e.path).sort();
    assert.deepEqual(paths, ['', 'email', 'username']);
    assert.equal((await call('GET', '/users/a', { token: admin })).status, 404);
  });

  test('fail-validation: unknown role and weak password', async () => {
    await call('POST', '/users', { token: admin, body: { username: 'bob', email: 'bob@example.com' } });
    const role = await call('POST', '/users/bob/roles', { token: admin, body: { role: 'wizard' } });
    assert.equal(role.status, 422);
    assert.equal((await json(role)).errors[0].path, 'role');
    const weak = await call('PUT', '/users/bob/password', { token: admin, body: { password: 'password1' } });
    assert.equal(weak.status, 422);
    assert.equal((await json(weak)).code, 'weak_password');
  });

  test('fail-conflict and fail-not-found', async () => {
    await call('POST', '/users', { token: admin, body: { username: 'carol', email: 'carol@example.com' } });
    const dup = await call('POST', '/users', { token: admin, body: { username: 'Carol', email: 'c2@example.com' } });
    assert.equal(dup.status, 409);
    assert.equal((await json(dup)).code, 'conflict');
    const missing = await call('POST', '/users/nobody/disable', { token: admin });
    assert.equal(missing.status, 404);
  });

  test('fail-malformed-json: 400 invalid_request', async () => {
    const res = await call('POST', '/users', { token: admin, raw: '{"username": "x",' });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).code, 'invalid_request');
  });

  test('fail-oversize: 413 body_too_large', async () => {
    const res = await call('POST', '/users', { token: admin, raw: JSON.stringify({ username: 'big', email: 'big@example.com', password: 'x'.repeat(svc.config.http.bodyLimit) }) });
    assert.equal(res.status, 413);
    assert.equal((await json(res)).code, 'body_too_large');
  });

  test('fail-media-type: a form body → 415', async () => {
    const res = await call('POST', '/users', { token: admin, raw: 'username=eve&email=eve%40example.com', type: 'application/x-www-form-urlencoded' });
    assert.equal(res.status, 415);
    assert.equal((await call('GET', '/users/eve', { token: admin })).status, 404);
  });

  test('ok: roles is the published policy', async () => {
    const roles = await json(await call('GET', '/roles', { token: admin }));
    assert.equal(roles.version, svc.service.context.policy.version);
    assert.deepEqual(roles.roles.customer, ['books:read', 'orders:create', 'orders:read:own']);
  });

  test('ok: clients — create shows the secret once, list, show, remove', async () => {
    const created = await call('POST', '/clients', { token: admin, body: { name: 'Billing', firstParty: true, grantTypes: ['client_credentials'], roles: ['staff'] } });
    assert.equal(created.status, 201);
    const { client, secret } = await json(created);
    assert.equal(typeof secret, 'string');
    assert.ok(secret.length >= 43);
    const listed = await call('GET', '/clients', { token: admin });
    assert.ok(!(await listed.text()).includes(secret));
    assert.equal((await json(await call('GET', `/clients/${client.clientId}`, { token: admin }))).name, 'Billing');
    assert.equal((await call('DELETE', `/clients/${client.clientId}`, { token: admin })).status, 204);
    assert.equal((await call('GET', `/clients/${client.clientId}`, { token: admin })).status, 404);
  });

  test('ok: a client with its own access-token lifetime (accessTokenTtl, seconds); beyond tokens.maxAccessTokenTtl → 422', async () => {
    const created = await json(await call('POST', '/clients', { token: admin, body: { clientId: 'quick', name: 'Quick', firstParty: true, grantTypes: ['client_credentials'], accessTokenTtl: 5 } }));
    assert.equal(created.client.accessTokenTtl, 5);
    assert.equal((await json(await call('GET', '/clients/quick', { token: admin }))).accessTokenTtl, 5);
    const tooLong = await call('POST', '/clients', { token: admin, body: { clientId: 'slow', name: 'Slow', firstParty: true, grantTypes: ['client_credentials'], accessTokenTtl: svc.config.tokens.maxAccessTokenTtl + 1 } });
    assert.equal(tooLong.status, 422);
    assert.deepEqual((await json(tooLong)).errors.map((e: { path: string }) => e.path), ['accessTokenTtl']);
  });

  test('fail-validation: a client body of the wrong shape → 422', async () => {
    const res = await call('POST', '/clients', { token: admin, body: { name: 'x', firstParty: 'yes', grantTypes: ['password'] } });
    assert.equal(res.status, 422);
    assert.deepEqual((await json(res)).errors.map((e: { path: string }) => e.path).sort(), ['firstParty', 'grantTypes.0']);
  });

  test('fail-validation: a javascript: redirect URI, a UUID-shaped client id, events:read on a login client → 422, nothing stored', async () => {
    const base = { name: 'Evil', firstParty: true, grantTypes: ['authorization_code'], redirectUris: ['https://app.example/cb'] };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, clientId: 'evil-js', redirectUris: ['javascript://app.example/%0aalert(1)'] }, 'redirectUris.0'],
      [{ ...base, clientId: 'evil-logout', postLogoutRedirectUris: ['http://evil.example/'] }, 'postLogoutRedirectUris.0'],
      [{ ...base, clientId: randomUUID() }, 'clientId'],
      [{ ...base, clientId: 'evil-events', scope: 'openid events:read' }, 'scope'],
    ];
    for (const [body, path] of cases) {
      const res = await call('POST', '/clients', { token: admin, body });
      assert.equal(res.status, 422, path);
      const problem = await json(res);
      assert.equal(problem.code, 'validation_failed');
      assert.deepEqual(problem.errors.map((e: { path: string }) => e.path), [path]);
      assert.equal((await call('GET', `/clients/${body.clientId as string}`, { token: admin })).status, 404);
    }
  });

  test('ok: the OpenAPI document is public JSON listing every route with its schemas', async () => {
    const res = await fetch(`${svc.url}/admin/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = await json(res);
    assert.equal(doc.openapi, '3.1.0');
    for (const route of adminRoutes) {
      const path = `/admin/api${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
      assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path} is documented`);
    }
    assert.equal(Object.values(doc.paths).flatMap((p) => Object.keys(p as object)).length, adminRoutes.length);
    assert.deepEqual(doc.components.schemas.CreateUser.required.sort(), ['email', 'username']);
    assert.equal(doc.components.schemas.CreateUser.properties.username.pattern, '^[a-zA-Z0-9._-]+$');
    assert.equal(doc.paths['/admin/api/users'].post.requestBody.content['application/json'].schema.$ref, '#/components/schemas/CreateUser');
  });
});
