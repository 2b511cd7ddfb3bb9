/** The user service on SQLite and PostgreSQL: validation, uniqueness, transactions, audit, revocation. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../config/index.ts';
import { createAuditLog, type AuditEvent } from '../events/audit.ts';
import { frozenClock } from '../shared/clock.ts';
import { silentLogger } from '../shared/logger.ts';
import { GatehouseError } from '../shared/errors.ts';
import { createIdentity, type Identity } from './index.ts';
import { forEachDialect } from '../../test/helpers/dialects.ts';
import { openTestStore } from '../../test/helpers/store.ts';
import type { Store } from '../store/index.ts';

const PASSWORD = 'correct horse battery staple';

const rejects = async (work: Promise<unknown>, code: string) => {
  await assert.rejects(work, (error: unknown) => error instanceof GatehouseError && error.code === code);
};

await forEachDialect('user service', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  let identity: Identity;
  const revoked: Array<[string, string]> = [];
  let failRevocation = false;
  const auditCount = async (event: AuditEvent, subject?: string) => (await createAuditLog(store.db).list({ event, ...(subject ? { subject } : {}) })).length;

  before(async () => {
    ({ store, close } = await openTestStore(dialect));
    identity = createIdentity({
      store, audit: createAuditLog(store.db), config: configSchema.parse({}), clock: frozenClock(), logger: silentLogger(),
      revokeUser: async (userId, reason, { trx }) => {
        // Writes through the caller's transaction, then fails when told to: the write must vanish too.
        await trx.insertInto('audit_log').values({ at: 1, event: 'grant.revoked', actor: 'test', subject: userId, client_id: null, ip: null, reason, data: null }).execute();
        if (failRevocation) throw new Error('injected revocation failure');
        revoked.push([userId, reason]);
      },
    });
  });
  after(async () => { await close(); });

  test('ok: create stores user, roles and audit; find by id or any-case username', async () => {
    const user = await identity.users.create({ username: 'Alice', email: 'Alice@Example.com', password: PASSWORD, roles: ['customer', 'staff'] }, 'cli');
    assert.equal(user.username, 'Alice');
    assert.equal(user.status, 'active');
    assert.deepEqual(user.roles, ['customer', 'staff']);
    assert.equal(typeof user.passwordChangedAt, 'number');
    assert.deepEqual(await identity.users.find('alice'), user);
    assert.deepEqual(await identity.users.find(user.id), user);
    assert.deepEqual(await identity.users.findById(user.id), user);
    assert.equal(await identity.users.findById('nope'), undefined);
    assert.equal(await auditCount('user.created', user.id), 1);
    assert.equal(JSON.stringify(user).includes('argon2'), false);
  });

  test('fail-conflict: username and email are unique ignoring case', async () => {
    await identity.users.create({ username: 'bob', email: 'bob@example.com' }, 'cli');
    await rejects(identity.users.create({ username: 'BOB', email: 'other@example.com' }, 'cli'), 'conflict');
    await rejects(identity.users.create({ username: 'bobby', email: 'BOB@example.com' }, 'cli'), 'conflict');
  });

  test('fail-validation: bad username, email or unknown role change nothing', async () => {
    const count = (await identity.users.list()).length;
    await rejects(identity.users.create({ username: 'a b', email: 'x@example.com' }, 'cli'), 'validation_failed');
    await rejects(identity.users.create({ username: 'ab', email: 'x@example.com' }, 'cli'), 'validation_failed');
    await rejects(identity.users.create({ username: 'xavier', email: 'not-an-email' }, 'cli'), 'validation_failed');
    await rejects(identity.users.create({ username: 'xavier', email: 'x@example.com', roles: ['wizard'] }, 'cli'), 'validation_failed');
    await rejects(identity.users.create({ username: 'xavier', email: 'x@example.com', password: 'password1' }, 'cli'), 'weak_password');
    assert.equal((await identity.users.list()).length, count);
  });

  test('fail-not-found: unknown user', async () => {
    await rejects(identity.users.find('ghost'), 'not_found');
    await rejects(identity.users.disable('ghost', 'cli'), 'not_found');
  });

  test('ok: disable revokes the user\'s tokens, enable restores, both audited', async () => {
    const user = await identity.users.create({ username: 'carol', email: 'carol@example.com', password: PASSWORD }, 'cli');
    assert.equal((await identity.users.disable('carol', 'user:admin')).status, 'disabled');
    assert.deepEqual(revoked.at(-1), [user.id, 'user_disabled']);
    assert.equal(await auditCount('user.disabled', user.id), 1);
    assert.equal((await identity.users.enable('carol', 'user:admin')).status, 'active');
    assert.equal(await auditCount('user.enabled', user.id), 1);
  });

  test('ok: setPassword applies the policy, changes the hash and revokes tokens', async () => {
    const user = await identity.users.create({ username: 'dave', email: 'dave@example.com', password: PASSWORD }, 'cli');
    await rejects(identity.users.setPassword('dave', 'short', 'cli'), 'weak_password');
    await identity.users.setPassword('dave', 'a different long passphrase', 'cli');
    assert.deepEqual(revoked.at(-1), [user.id, 'password_changed']);
    assert.equal(await auditCount('password.changed', user.id), 1);
    const login = await identity.authenticator.authenticate({ username: 'dave', password: 'a different long passphrase', ip: '127.0.0.1' });
    assert.equal(login.ok, true);
  });

  test('fail-revocation: a failing revocation rolls back the password change or disable with its audit', async () => {
    const user = await identity.users.create({ username: 'gina', email: 'gina@example.com', password: PASSWORD }, 'cli');
    const before = await store.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow();
    failRevocation = true;
    try {
      await rejects(identity.users.setPassword('gina', 'a different long passphrase', 'cli'), 'internal_error');
      await rejects(identity.users.disable('gina', 'cli'), 'internal_error');
    } finally {
      failRevocation = false;
    }
    assert.deepEqual(await store.db.selectFrom('users').selectAll().where('id', '=', user.id).executeTakeFirstOrThrow(), before);
    assert.equal(await auditCount('password.changed', user.id), 0);
    assert.equal(await auditCount('user.disabled', user.id), 0);
    assert.equal(await auditCount('grant.revoked', user.id), 0);
    assert.equal((await identity.authenticator.authenticate({ username: 'gina', password: PASSWORD, ip: '127.0.0.1' })).ok, true);
  });

  test('ok: grant and revoke roles; unknown role is a validation error', async () => {
    const user = await identity.users.create({ username: 'erin', email: 'erin@example.com' }, 'cli');
    assert.deepEqual((await identity.users.grantRole('erin', 'staff', 'cli')).roles, ['staff']);
    assert.deepEqual((await identity.users.grantRole('erin', 'staff', 'cli')).roles, ['staff']);
    await rejects(identity.users.grantRole('erin', 'wizard', 'cli'), 'validation_failed');
    assert.deepEqual((await identity.users.revokeRole('erin', 'staff', 'cli')).roles, []);
    assert.equal(await auditCount('role.granted', user.id), 1);
    assert.equal(await auditCount('role.revoked', user.id), 1);
  });

  test('ok: revokeRole revokes the user\'s tokens (reason role_revoked); a failing revocation keeps the role', async () => {
    const user = await identity.users.create({ username: 'hank', email: 'hank@example.com', roles: ['admin', 'staff'] }, 'cli');
    failRevocation = true;
    try {
      await rejects(identity.users.revokeRole('hank', 'admin', 'cli'), 'internal_error');
    } finally {
      failRevocation = false;
    }
    assert.deepEqual((await identity.users.find('hank')).roles, ['admin', 'staff']);
    assert.equal(await auditCount('role.revoked', user.id), 0);
    assert.deepEqual((await identity.users.revokeRole('hank', 'admin', 'user:root')).roles, ['staff']);
    assert.deepEqual(revoked.at(-1), [user.id, 'role_revoked']);
    assert.equal(await auditCount('role.revoked', user.id), 1);
  });

  test('ok: list returns every user sorted by name with roles', async () => {
    const names = (await identity.users.list()).map((u) => u.username);
    assert.deepEqual(names, [...names].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())));
    assert.ok(names.includes('Alice'));
    assert.deepEqual((await identity.users.list()).find((u) => u.username === 'Alice')?.roles, ['customer', 'staff']);
  });
});
