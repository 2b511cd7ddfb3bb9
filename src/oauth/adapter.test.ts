/** The oidc-provider adapter on SQLite and PostgreSQL: expiry, atomic consume, grant revocation, clients. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../store/index.ts';
import { createAuditLog } from '../events/audit.ts';
import { configSchema } from '../config/index.ts';
import { frozenClock } from '../shared/clock.ts';
import { sha256Hex } from '../shared/random.ts';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import { createAdapterFactory, ConsumedTwiceError, sweepExpired } from './adapter.ts';
import { createClientService } from './clients.ts';

await forEachDialect('oauth adapter', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  const clock = frozenClock(Date.UTC(2026, 0, 1));
  const adapterFor = () => createAdapterFactory({ store, clock });

  before(async () => { ({ store, close } = await openTestStore(dialect)); });
  after(async () => { await close(); });

  test('ok: upsert, find, findByUid, findByUserCode, destroy', async () => {
    const sessions = adapterFor()('Session');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice', kind: 'Session' }, 60);
    assert.deepEqual(await sessions.find('s1'), { uid: 'u1', accountId: 'alice', kind: 'Session' });
    assert.equal((await sessions.findByUid('u1'))?.accountId, 'alice');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice', kind: 'Session', extra: 1 }, 60);
    assert.equal((await sessions.find('s1'))?.extra, 1);
    const devices = adapterFor()('DeviceCode');
    await devices.upsert('d1', { userCode: 'ABCD-EFGH' }, 60);
    assert.ok(await devices.findByUserCode('ABCD-EFGH'));
    assert.equal(await adapterFor()('Interaction').find('s1'), undefined, 'models do not see each other');
    await sessions.destroy('s1');
    assert.equal(await sessions.find('s1'), undefined);
  });

  test('fail-expired: find answers undefined once expires_at has passed', async () => {
    const codes = adapterFor()('AuthorizationCode');
    await codes.upsert('c-exp', { grantId: 'g-exp' }, 10);
    assert.ok(await codes.find('c-exp'));
    clock.advance(11_000);
    assert.equal(await codes.find('c-exp'), undefined);
    clock.advance(2 * 3600_000);
    await sweepExpired(store, clock);
    const left = await store.db.selectFrom('oidc_models').select('id').where('id', '=', 'c-exp').executeTakeFirst();
    assert.equal(left, undefined, 'swept');
  });

  test('ok: a device code stays readable past its expiry (oidc-provider answers expired_token) until swept', async () => {
    const devices = adapterFor()('DeviceCode');
    await devices.upsert('d-exp', { userCode: 'BCDFGHJK', exp: 1 }, 10);
    clock.advance(11_000);
    assert.equal((await devices.find('d-exp'))?.userCode, 'BCDFGHJK');
    assert.ok(await devices.findByUserCode('BCDFGHJK'));
    clock.advance(2 * 3600_000);
    await sweepExpired(store, clock);
    assert.equal(await devices.find('d-exp'), undefined, 'swept');
  });

  test('ok: two device codes sharing a user code: the newest (live) one is found', async () => {
    const devices = adapterFor()('DeviceCode');
    await devices.upsert('d-old', { userCode: 'QQQQRRRR', which: 'old' }, 10);
    clock.advance(11_000);
    await devices.upsert('d-new', { userCode: 'QQQQRRRR', which: 'new' }, 600);
    assert.equal((await devices.findByUserCode('QQQQRRRR'))?.which, 'new');
  });

  test('ok: consume marks the payload consumed', async () => {
    const tokens = adapterFor()('RefreshToken');
    await tokens.upsert('r1', { grantId: 'g1' }, 60);
    await tokens.consume('r1');
    assert.equal(typeof (await tokens.find('r1'))?.consumed, 'number');
  });

  test('fail-consume-twice: the second consume revokes the grant and throws invalid_grant', async () => {
    const factory = adapterFor();
    await factory('Grant').upsert('g2', { accountId: 'alice' }, 600);
    await factory('RefreshToken').upsert('r2', { grantId: 'g2', accountId: 'alice' }, 60);
    await factory('AccessToken').upsert('a2', { grantId: 'g2', accountId: 'alice' }, 60);
    const results = await Promise.allSettled([factory('RefreshToken').consume('r2'), factory('RefreshToken').consume('r2')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const failure = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(failure.reason instanceof ConsumedTwiceError);
    assert.equal(failure.reason.error, 'invalid_grant');
    assert.equal(failure.reason.grantId, 'g2');
    assert.equal(await factory('Grant').find('g2'), undefined);
    assert.equal(await factory('AccessToken').find('a2'), undefined);
  });

  test('ok: revokeByGrantId removes only that model and grant', async () => {
    const factory = adapterFor();
    await factory('RefreshToken').upsert('r3', { grantId: 'g3' }, 60);
    await factory('RefreshToken').upsert('r4', { grantId: 'g4' }, 60);
    await factory('AccessToken').upsert('a3', { grantId: 'g3' }, 60);
    await factory('RefreshToken').revokeByGrantId('g3');
    assert.equal(await factory('RefreshToken').find('r3'), undefined);
    assert.ok(await factory('RefreshToken').find('r4'));
    assert.ok(await factory('AccessToken').find('a3'));
  });

  test('ok: clients come from the clients table as metadata with the secret digest', async () => {
    const config = configSchema.parse({ dataDir: '/tmp/unused' });
    const clients = createClientService({ store, audit: createAuditLog(store.db, clock), config, clock, revoker: { revokeClient: async () => ({ grants: 0, accessTokens: 0 }) } });
    const { secret } = await clients.create({ clientId: 'app', name: 'App', firstParty: true, redirectUris: ['https://app.example/cb'], grantTypes: ['authorization_code'] }, 'test');
    const metadata = await adapterFor()('Client').find('app');
    assert.equal(metadata?.client_id, 'app');
    assert.equal(metadata?.client_secret, sha256Hex(secret!));
    assert.deepEqual(metadata?.redirect_uris, ['https://app.example/cb']);
    assert.equal(metadata?.gatehouse_first_party, true);
    assert.equal(await adapterFor()('Client').find('nobody'), undefined);
    await assert.rejects(adapterFor()('Client').upsert('x', {}, 0), TypeError);
  });
});
