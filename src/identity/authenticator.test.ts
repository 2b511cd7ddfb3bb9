/** Login: no enumeration, throttling per account and per IP, rehash on login. Frozen clock, real SQLite store. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema, type Config } from '../config/index.ts';
import { createAuditLog } from '../events/audit.ts';
import { frozenClock } from '../shared/clock.ts';
import { silentLogger } from '../shared/logger.ts';
import { createMetrics } from '../shared/metrics.ts';
import { createIdentity, parsePhc, type Identity } from './index.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import type { Store } from '../store/index.ts';

const PASSWORD = 'correct horse battery staple';
const throttle = { freeAttempts: 2, baseDelay: 1, maxDelay: 4, lockAfter: 6, lockout: 60, window: 3600, ipLockAfter: 9 };

function testConfig(argon2 = { memory: 19456, passes: 2, parallelism: 1 }): Config {
  const config = configSchema.parse({ throttle });
  // Below the production floor on purpose (speed); the rehash test raises it.
  config.passwords.argon2 = argon2;
  return config;
}

describe('authenticator', () => {
  const clock = frozenClock();
  let store: Store;
  let close: () => Promise<void>;
  let identity: Identity;
  const build = (config: Config) => createIdentity({ store, audit: createAuditLog(store.db, clock), config, clock, logger: silentLogger(), revokeUser: async () => {} });

  before(async () => {
    ({ store, close } = await openTestStore('sqlite'));
    identity = build(testConfig({ memory: 1024, passes: 1, parallelism: 1 }));
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      await identity.users.create({ username: name, email: `${name}@example.com`, password: PASSWORD }, 'test');
    }
  });
  after(async () => { await close(); });

  const login = (username: string, password: string, ip: string) => identity.authenticator.authenticate({ username, password, ip });
  const events = async (event: 'login.failed' | 'login.succeeded' | 'account.locked' | 'ip.blocked') => (await createAuditLog(store.db).list({ event })).length;

  test('ok: right password logs in, audited', async () => {
    const before = await events('login.succeeded');
    const result = await login('Alice', PASSWORD, '10.0.0.1');
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.user.username, 'alice');
    assert.equal(await events('login.succeeded'), before + 1);
  });

  test('fail-invalid-credentials: unknown user and wrong password give the same answer', async () => {
    assert.deepEqual(await login('alice', 'wrong password here', '10.0.0.2'), { ok: false, reason: 'invalid_credentials' });
    assert.deepEqual(await login('nobody-here', 'wrong password here', '10.0.0.2'), { ok: false, reason: 'invalid_credentials' });
  });

  test('fail-locked: the delay grows after the free attempts and refuses even the right password', async () => {
    const ip = '10.0.1.1';
    assert.deepEqual(await login('bob', 'nope', ip), { ok: false, reason: 'invalid_credentials' });
    assert.deepEqual(await login('bob', 'nope', ip), { ok: false, reason: 'invalid_credentials' });
    assert.deepEqual(await login('bob', 'nope', ip), { ok: false, reason: 'invalid_credentials', retryAfter: 1 });
    assert.deepEqual(await login('bob', PASSWORD, ip), { ok: false, reason: 'throttled', retryAfter: 1 });
    clock.advance(1000);
    assert.deepEqual(await login('bob', 'nope', ip), { ok: false, reason: 'invalid_credentials', retryAfter: 2 });
    clock.advance(2000);
    assert.deepEqual(await login('bob', 'nope', ip), { ok: false, reason: 'invalid_credentials', retryAfter: 4 });
    clock.advance(4000);
    // the reset on success: after the delay the right password works and clears the counter
    assert.equal((await login('bob', PASSWORD, ip)).ok, true);
    // (from another IP: this one keeps its own failure count)
    assert.deepEqual(await login('bob', 'nope', '10.0.1.2'), { ok: false, reason: 'invalid_credentials' });
  });

  test('fail-locked: lockAfter failures lock the account for `lockout`, then it opens again', async () => {
    const ip = '10.0.2.1';
    const lockedBefore = await events('account.locked');
    for (let i = 0; i < throttle.lockAfter; i++) {
      await login('carol', 'nope', ip);
      clock.advance(throttle.maxDelay * 1000);
    }
    assert.equal(await events('account.locked'), lockedBefore + 1);
    const locked = await login('carol', PASSWORD, '10.0.2.99');
    assert.equal(locked.ok, false);
    assert.equal(!locked.ok && locked.reason, 'locked');
    assert.ok(!locked.ok && locked.retryAfter! > throttle.maxDelay && locked.retryAfter! <= throttle.lockout);
    clock.advance(throttle.lockout * 1000);
    assert.equal((await login('carol', PASSWORD, '10.0.2.99')).ok, true);
  });

  test('ok: an unknown name is throttled and locked exactly like a real one', async () => {
    const run = async (username: string, ip: string) => {
      const results = [];
      for (let i = 0; i < throttle.lockAfter + 2; i++) {
        results.push(await login(username, 'nope', ip));
        clock.advance(1500);
      }
      return results;
    };
    const start = clock.now();
    const real = await run('dave', '10.0.3.1');
    clock.set(start + 10_000_000);
    const unknown = await run('no-such-user', '10.0.3.2');
    assert.deepEqual(unknown, real);
    assert.ok(real.some((r) => !r.ok && (r.reason === 'throttled' || r.reason === 'locked')));
  });

  test('fail-locked: too many failures from one IP block it for every name, other IPs unaffected', async () => {
    const ip = '10.0.4.1';
    const blockedBefore = await events('ip.blocked');
    for (let i = 0; i < throttle.ipLockAfter; i++) {
      await login(`spray-${i}`, 'nope', ip);
      clock.advance(throttle.maxDelay * 1000);
    }
    assert.equal(await events('ip.blocked'), blockedBefore + 1);
    const refused = await login('erin', PASSWORD, ip);
    assert.equal(!refused.ok && refused.reason, 'locked');
    assert.equal((await login('erin', PASSWORD, '10.0.4.2')).ok, true);
  });

  test('fail-ipv6-rotation: failures from one IPv6 /64 count together, whatever the host part', async () => {
    const blockedBefore = await events('ip.blocked');
    for (let i = 0; i < throttle.ipLockAfter; i++) {
      await login(`v6-spray-${i}`, 'nope', `2001:db8:77:1::${(i + 1).toString(16)}`);
      clock.advance(throttle.maxDelay * 1000);
    }
    assert.equal(await events('ip.blocked'), blockedBefore + 1);
    const refused = await login('erin', PASSWORD, '2001:db8:77:1:ffff::1');
    assert.equal(!refused.ok && refused.reason, 'locked');
    assert.equal((await login('erin', PASSWORD, '2001:db8:77:2::1')).ok, true, 'the next /64 is another client');
  });

  test('ok: a few failures from one shared IP (other names) do not delay another user there', async () => {
    const ip = '10.0.7.1';
    // More than freeAttempts, fewer than ipFreeAttempts (default 20): a NAT with one clumsy neighbour.
    for (let i = 0; i < 5; i++) assert.deepEqual(await login(`neighbour-${i}`, 'nope', ip), { ok: false, reason: 'invalid_credentials' });
    assert.equal((await login('dave', PASSWORD, ip)).ok, true);
  });

  test('fail-throttled: a parallel burst on one account cannot slip past the counters between check and count', async () => {
    await identity.users.create({ username: 'grace', email: 'grace@example.com', password: PASSWORD }, 'test');
    const burst = 8;
    // Spread over as many IPs: only the per-account counter can stop it.
    const results = await Promise.all(Array.from({ length: burst }, (_, i) => login('grace', 'nope', `10.0.8.${i + 1}`)));
    const checked = results.filter((r) => !r.ok && r.reason === 'invalid_credentials');
    const refused = results.filter((r) => !r.ok && r.reason === 'throttled');
    // freeAttempts failures are free; the next one sets a delay, which refuses the rest unchecked.
    assert.equal(checked.length, throttle.freeAttempts + 1);
    assert.equal(refused.length, burst - checked.length);
    assert.deepEqual(await login('grace', PASSWORD, '10.0.8.99'), { ok: false, reason: 'throttled', retryAfter: 1 });
  });

  test('fail-spray-delay: a parallel burst from one address is checked ipFreeAttempts + 1 times; the rest are refused before any hash', async () => {
    // Delays before the lock budget (ipLockAfter above the burst): each attempt's charge comes before its hash.
    const config = testConfig({ memory: 1024, passes: 1, parallelism: 1 });
    config.throttle = { ...config.throttle, ipFreeAttempts: 4, ipLockAfter: 50 };
    const metrics = createMetrics({ defaultMetrics: false });
    const sprayed = createIdentity({ store, audit: createAuditLog(store.db, clock), config, clock, logger: silentLogger(), metrics, revokeUser: async () => {} });
    const hashes = async () => (await metrics.registry.getSingleMetric('gatehouse_password_hashes_total')!.get()).values[0]?.value ?? 0;
    await sprayed.authenticator.authenticate({ username: 'warm-up', password: 'nope', ip: '10.0.9.99' }); // the dummy hash is made
    const before = await hashes();
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => sprayed.authenticator.authenticate({ username: `delayed-${i}`, password: 'nope', ip: '10.0.9.1' })));
    assert.equal((await hashes()) - before, config.throttle.ipFreeAttempts + 1);
    assert.equal(results.filter((r) => !r.ok && r.reason === 'invalid_credentials').length, config.throttle.ipFreeAttempts + 1);
    assert.deepEqual(new Set(results.filter((r) => !r.ok && r.reason !== 'invalid_credentials').map((r) => JSON.stringify(r))), new Set([JSON.stringify({ ok: false, reason: 'throttled', retryAfter: 1 })]));
  });

  test('fail-disabled: reported only after the right password', async () => {
    await identity.users.disable('frank', 'test');
    assert.deepEqual(await login('frank', 'nope', '10.0.5.1'), { ok: false, reason: 'invalid_credentials' });
    assert.deepEqual(await login('frank', PASSWORD, '10.0.5.1'), { ok: false, reason: 'disabled' });
  });

  test('ok: raised argon2 parameters re-hash the password at the next login', async () => {
    const hashOf = async () => (await store.db.selectFrom('users').select('password_hash').where('username_key', '=', 'alice').executeTakeFirstOrThrow()).password_hash!;
    assert.equal(parsePhc(await hashOf())?.params.memory, 1024);
    const raised = build(testConfig({ memory: 2048, passes: 2, parallelism: 1 }));
    assert.equal((await raised.authenticator.authenticate({ username: 'alice', password: PASSWORD, ip: '10.0.6.1' })).ok, true);
    assert.deepEqual(parsePhc(await hashOf())?.params, { memory: 2048, passes: 2, parallelism: 1 });
    assert.equal((await raised.authenticator.authenticate({ username: 'alice', password: PASSWORD, ip: '10.0.6.1' })).ok, true);
  });
});
