/**
 * The database goes away while the service runs: every API answers 503 `store_unavailable` with
 * Retry-After (never 500), /readyz says unavailable, and nothing was written once it is back.
 * SQLite: the service's database handle is destroyed. PostgreSQL: the test database stops
 * accepting connections and its backends are terminated, as in a failover or maintenance.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startService, type TestService } from './helpers/service.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { TEST_POSTGRES_URL } from './helpers/postgres.ts';
import { openStore } from '../src/store/index.ts';

async function onPostgres(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

await forEachDialect('store outage', (dialect) => {
  let svc: TestService;
  let admin: string;
  let gateway: string;
  let databaseName = '';

  const sign = (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return svc.service.context.keys.sign({ iss: svc.config.issuer, aud: svc.config.issuer, jti: randomUUID(), iat: now, exp: now + 300, ...claims }, { typ: 'at+jwt' });
  };
  const send = (method: string, path: string, token: string, body?: unknown) => fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const assertUnavailable = async (res: Response) => {
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]?$/);
    assert.equal(JSON.parse(text).code, 'store_unavailable');
    assert.doesNotMatch(text, /destroyed|terminat|accepting|\.ts:\d+/i);
  };

  before(async () => {
    svc = await startService({ dialect });
    const ctx = svc.service.context;
    const root = await ctx.users.create({ username: 'root', email: 'root@example.com', roles: ['admin'] }, 'test');
    admin = await sign({ sub: root.id, client_id: 'console', scope: 'admin', roles: ['admin'] });
    gateway = await sign({ sub: 'gateway', client_id: 'gateway', scope: 'events:read', roles: [] });
    assert.equal((await send('GET', '/admin/api/users', admin)).status, 200);
    // Take the store down.
    if (dialect === 'sqlite') {
      await ctx.store.db.destroy();
    } else {
      databaseName = new URL(svc.config.database.url!).pathname.slice(1);
      await onPostgres(`alter database ${databaseName} allow_connections false`);
      await onPostgres(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${databaseName}' and pid <> pg_backend_pid()`);
    }
  });
  after(async () => {
    if (databaseName) await onPostgres(`alter database ${databaseName} allow_connections true`).catch(() => {});
    await svc.close().catch(() => {});
  });

  test('fail-store-down: GET /admin/api/users → 503 store_unavailable', async () => {
    await assertUnavailable(await send('GET', '/admin/api/users', admin));
  });

  test('fail-store-down: POST /admin/api/users → 503 store_unavailable', async () => {
    await assertUnavailable(await send('POST', '/admin/api/users', admin, { username: 'ghost', email: 'ghost@example.com', password: 'Quartz-Lantern-Meadow-8142' }));
  });

  test('fail-store-down: POST /admin/api/clients → 503 store_unavailable', async () => {
    await assertUnavailable(await send('POST', '/admin/api/clients', admin, { clientId: 'ghost-client', name: 'Ghost', firstParty: true, grantTypes: ['client_credentials'] }));
  });

  test('fail-unauthorized: during the outage a request without a token is still 401 (the failed audit write hides nothing)', async () => {
    const res = await fetch(`${svc.url}/admin/api/users`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { code: string }).code, 'unauthorized');
  });

  test('fail-store-down: POST /events/poll → 503 store_unavailable', async () => {
    await assertUnavailable(await send('POST', '/events/poll', gateway, { returnImmediately: true, maxEvents: 10 }));
  });

  test('fail-store-down: GET /oauth2/authorize → 503 page with Retry-After', async () => {
    const query = new URLSearchParams({ client_id: 'shop', response_type: 'code', redirect_uri: 'http://127.0.0.1:9/callback', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' });
    const res = await fetch(`${svc.url}/oauth2/authorize?${query}`, { redirect: 'manual' });
    const html = await res.text();
    assert.equal(res.status, 503, html.slice(0, 200));
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]?$/);
    assert.match(html, /temporarily unavailable/i);
  });

  test('fail-store-down: /readyz → 503 while /healthz stays 200', async () => {
    const ready = await fetch(`${svc.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(await ready.json(), { status: 'unavailable', reason: 'store' });
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  });

  // Last: the store comes back.
  test('fail-store-down: after the store is back, nothing of the refused writes exists', async () => {
    if (databaseName) await onPostgres(`alter database ${databaseName} allow_connections true`);
    const store = openStore({ url: svc.config.database.url, dataDir: svc.config.dataDir });
    try {
      assert.equal(await store.db.selectFrom('users').select('id').where('username_key', '=', 'ghost').executeTakeFirst(), undefined);
      assert.equal(await store.db.selectFrom('clients').select('client_id').where('client_id', '=', 'ghost-client').executeTakeFirst(), undefined);
      assert.equal((await store.db.selectFrom('users').select('id').execute()).length, 1);
    } finally {
      await store.close();
    }
    if (dialect === 'postgres') assert.equal((await fetch(`${svc.url}/readyz`)).status, 200);
  });
});
