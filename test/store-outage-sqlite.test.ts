/**
 * SQLite failing under a running service: the database file and its WAL become immutable
 * (`chattr +i`, which binds root too — as a read-only remount or a failing disk would), so
 * every write fails with SQLITE_IOERR while reads still work. Writes answer 503
 * `store_unavailable` with Retry-After, classified by SQLite's result code; reads answer 200;
 * once the files are writable again the same service writes again, without a restart.
 */
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startService, type TestService } from './helpers/service.ts';

describe('store read-only [sqlite]', () => {
  let svc: TestService;
  let admin: string;
  let files: string[];
  const immutable = (on: boolean) => execFileSync('chattr', [on ? '+i' : '-i', ...files]);

  const send = (method: string, path: string, body?: unknown) => fetch(`${svc.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const newUser = (username: string) => ({ username, email: `${username}@example.com`, password: 'Quartz-Lantern-Meadow-8142' });

  before(async () => {
    svc = await startService({ dialect: 'sqlite' });
    const ctx = svc.service.context;
    const root = await ctx.users.create({ username: 'root', email: 'root@example.com', roles: ['admin'] }, 'test');
    const now = Math.floor(Date.now() / 1000);
    admin = await ctx.keys.sign({ iss: svc.config.issuer, aud: svc.config.issuer, sub: root.id, client_id: 'console', scope: 'admin', roles: ['admin'], jti: randomUUID(), iat: now, exp: now + 300 }, { typ: 'at+jwt' });
    const db = join(svc.dataDir, 'gatehouse.db');
    // Not the -shm file: SQLite maps it into memory, and a write fault there is a SIGBUS.
    files = [db, `${db}-wal`];
    immutable(true);
  });
  after(async () => {
    immutable(false);
    await svc.close();
  });

  test('fail-store-read-only: a write answers 503 store_unavailable with Retry-After', async () => {
    const res = await send('POST', '/admin/api/users', newUser('ghost'));
    const text = await res.text();
    assert.equal(res.status, 503, text);
    assert.match(res.headers.get('retry-after') ?? '', /^[1-9][0-9]?$/);
    assert.equal(JSON.parse(text).code, 'store_unavailable');
    assert.doesNotMatch(text, /I\/O|SQLITE|readonly/i);
  });

  test('ok: reads still answer while the database cannot be written', async () => {
    const res = await send('GET', '/admin/api/users');
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { users: Array<{ username: string }> }).users.map((u) => u.username), ['root']);
  });

  test('ok: once the files are writable again, the same service writes again', async () => {
    immutable(false);
    const res = await send('POST', '/admin/api/users', newUser('back'));
    assert.equal(res.status, 201, await res.text());
  });
});
