/** The store behaves the same on SQLite and PostgreSQL: migrations, transactions, constraints, failures. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, isUniqueViolation, isStoreUnavailable, type Store } from '../src/store/index.ts';
import { forEachDialect } from './helpers/dialects.ts';
import { openTestStore } from './helpers/store.ts';

const user = (id: string) => ({
  id, username: id, username_key: id, email: `${id}@example.com`, email_key: `${id}@example.com`,
  password_hash: null, status: 'active' as const, created_at: 1, updated_at: 1, password_changed_at: null,
});

await forEachDialect('store', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  before(async () => { ({ store, close } = await openTestStore(dialect)); });
  after(async () => { await close(); });

  test('ok: migrations are versioned and a second run applies nothing', async () => {
    assert.deepEqual(await store.migrate(), []);
  });

  test('ok: epoch seconds come back as numbers on both dialects', async () => {
    await store.db.insertInto('users').values({ ...user('numbers'), created_at: 4_102_444_800 }).execute();
    const row = await store.db.selectFrom('users').select('created_at').where('id', '=', 'numbers').executeTakeFirstOrThrow();
    assert.equal(row.created_at, 4_102_444_800);
  });

  test('fail-transaction: writes that belong together land together or not at all', async () => {
    await assert.rejects(store.transaction(async (trx) => {
      await trx.insertInto('users').values(user('half')).execute();
      await trx.insertInto('user_roles').values({ user_id: 'half', role: 'customer', granted_at: 1 }).execute();
      throw new Error('boom after two writes');
    }), /boom/);
    assert.equal(await store.db.selectFrom('users').select('id').where('id', '=', 'half').executeTakeFirst(), undefined);
    assert.deepEqual(await store.db.selectFrom('user_roles').select('role').where('user_id', '=', 'half').execute(), []);
  });

  test('fail-duplicate: unique constraints hold and are recognised on both dialects', async () => {
    await store.db.insertInto('users').values(user('dup')).execute();
    const error = await store.db.insertInto('users').values({ ...user('dup2'), username_key: 'dup' }).execute().catch((e: unknown) => e);
    assert.ok(isUniqueViolation(error), `expected a unique violation, got ${String(error)}`);
  });

  test('fail-audit-tamper: the audit log refuses UPDATE and DELETE', async () => {
    await store.db.insertInto('audit_log').values({ at: 1, event: 'user.created' }).execute();
    await assert.rejects(store.db.updateTable('audit_log').set({ event: 'user.disabled' }).execute(), /append-only/);
    await assert.rejects(store.db.deleteFrom('audit_log').execute(), /append-only/);
    const rows = await store.db.selectFrom('audit_log').select('event').execute();
    assert.deepEqual(rows.map((r) => r.event), ['user.created']);
  });

  test('fail-foreign-key: a role for a missing user is refused', async () => {
    await assert.rejects(store.db.insertInto('user_roles').values({ user_id: 'ghost', role: 'admin', granted_at: 1 }).execute());
  });
});

test('fail-unreachable: a PostgreSQL that does not answer is reported as store unavailable', async () => {
  const store = openStore({ url: 'postgres://postgres@127.0.0.1:1/none', dataDir: '/nonexistent' });
  const error = await store.ping().catch((e: unknown) => e);
  await store.close();
  assert.ok(isStoreUnavailable(error), `expected unavailable, got ${String(error)}`);
});
