import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import { prepared, type Store } from './index.ts';

await forEachDialect('prepared statements', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  before(async () => ({ store, close } = await openTestStore(dialect)));
  after(async () => { await close(); });

  const row = (key: string, failures: number) => ({ key, failures, first_failure_at: 1, last_failure_at: 2, locked_until: null });

  test('ok: each run binds its own values, a parameter used twice included; values written in the query stay', async () => {
    const insert = prepared(store.db, (db, p: { key: string; failures: number }) =>
      db.insertInto('login_throttle').values({ key: p.key, failures: p.failures, first_failure_at: 1, last_failure_at: 2, locked_until: null }),
    );
    const between = prepared(store.db, (db, p: { key: string }) =>
      db.selectFrom('login_throttle').select(['key', 'failures']).where('key', '>=', p.key).where('key', '<=', p.key).where('last_failure_at', '=', 2),
    );
    await insert(store.db, { key: 'acct:a', failures: 3 });
    await insert(store.db, { key: 'acct:b', failures: 5 });
    assert.deepEqual((await between(store.db, { key: 'acct:b' })).map((r) => ({ ...r })), [{ key: 'acct:b', failures: 5 }]);
    assert.deepEqual((await between(store.db, { key: 'acct:a' })).map((r) => ({ ...r })), [{ key: 'acct:a', failures: 3 }]);
    assert.deepEqual(await between(store.db, { key: 'acct:c' }), []);
  });

  test('ok: inside a transaction a statement runs on the transaction: a rollback takes its write back', async () => {
    const insert = prepared(store.db, (db, r: ReturnType<typeof row>) => db.insertInto('login_throttle').values({ key: r.key, failures: r.failures, first_failure_at: r.first_failure_at, last_failure_at: r.last_failure_at, locked_until: r.locked_until }));
    const count = prepared(store.db, (db, p: { key: string }) => db.selectFrom('login_throttle').select('key').where('key', '=', p.key));
    await assert.rejects(store.transaction(async (trx) => {
      await insert(trx, row('acct:rolled-back', 1));
      assert.equal((await count(trx, { key: 'acct:rolled-back' })).length, 1, 'visible inside the transaction');
      throw new Error('roll back');
    }), /roll back/);
    assert.equal((await count(store.db, { key: 'acct:rolled-back' })).length, 0);
  });
});
