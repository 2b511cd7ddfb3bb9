/**
 * Password login with no user enumeration and with throttling (see ./throttle.ts).
 *
 * - Unknown user, user without a password and wrong password all verify one argon2id hash
 *   (a precomputed dummy for the first two) and count one failure: same answer, similar time.
 * - A disabled user is reported as such only after the password was verified correct.
 * - During a delay or lock the attempt is refused before any lookup or hash.
 * - Attempts on one account name are serialized within this process, so a parallel burst cannot
 *   slip past the counters between the check and the count.
 */
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { randomToken } from '../shared/random.ts';
import type { PasswordHasher } from './passwords.ts';
import { accountKey, ipKey, waitFor, type ThrottleSettings, type ThrottleStore } from './throttle.ts';
import { selectUserWithRoles, toUser } from './user-repository.ts';
import type { Authenticator, LoginResult } from './types.ts';

export interface AuthenticatorDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  hasher: PasswordHasher;
  throttle: ThrottleStore;
  settings: ThrottleSettings;
}

const MAX_PASSWORD_INPUT = 4096;

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const { store, audit, clock, hasher, throttle, settings } = deps;
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hasher.hash(randomToken(24)));
  // Precompute now (off the main thread) so the first unknown-user login is not the slow one.
  dummy().catch(() => { dummyHash = undefined; });
  const queues = new Map<string, Promise<unknown>>();

  /** Runs attempts on one key one after another (in this process). */
  const serialized = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => {});
    queues.set(key, settled);
    void settled.then(() => { if (queues.get(key) === settled) queues.delete(key); });
    return run;
  };

  const attempt = async (input: { username: string; password: string; ip: string }): Promise<LoginResult> => {
    const now = epochSeconds(clock);
    const acct = accountKey(input.username);
    const ip = ipKey(input.ip);
    const [acctState, ipState] = await Promise.all([throttle.get(acct), throttle.get(ip)]);
    const wait = Math.max(waitFor(acctState, now, settings), waitFor(ipState, now, settings, 'ip'));
    if (wait > 0) {
      await audit.record({ event: 'login.failed', actor: `ip:${input.ip}`, ip: input.ip, reason: 'locked', data: { username: input.username.slice(0, 128), retryAfter: wait } });
      return { ok: false, reason: 'locked', retryAfter: wait };
    }

    const found = input.username.length <= 128 ? await selectUserWithRoles(store.db, { usernameKey: input.username.trim().toLowerCase() }) : undefined;
    const storedHash = found?.row.password_hash ?? null;
    const password = input.password.slice(0, MAX_PASSWORD_INPUT);
    const verified = await hasher.verify(password, storedHash ?? (await dummy()));
    if (!found || storedHash === null || !verified) {
      return failed(input, now, acct, ip, found?.row.id);
    }

    const user = toUser(found.row, found.roles);
    if (user.status === 'disabled') {
      await audit.record({ event: 'login.failed', actor: `ip:${input.ip}`, subject: user.id, ip: input.ip, reason: 'disabled' });
      return { ok: false, reason: 'disabled' };
    }
    // Reset only what exists: a clean login (the common case) costs no write here.
    if (acctState !== undefined) await throttle.reset(acct);
    if (hasher.needsRehash(storedHash)) {
      // Parameters were raised since this hash was made: upgrade it while we hold the password.
      const upgraded = await hasher.hash(password);
      await store.db.updateTable('users').set({ password_hash: upgraded }).where('id', '=', user.id).where('password_hash', '=', storedHash).execute();
      deps.logger.info({ userId: user.id }, 'password hash upgraded to the configured argon2id parameters');
    }
    await audit.record({ event: 'login.succeeded', actor: `user:${user.id}`, subject: user.id, ip: input.ip });
    return { ok: true, user };
  };

  const failed = async (input: { username: string; ip: string }, now: number, acct: string, ip: string, userId: string | undefined): Promise<LoginResult> => {
    const [acctState, ipState] = await Promise.all([throttle.recordFailure(acct, now, settings.window), throttle.recordFailure(ip, now, settings.window)]);
    const name = input.username.slice(0, 128);
    await audit.record({ event: 'login.failed', actor: `ip:${input.ip}`, subject: userId ?? null, ip: input.ip, reason: 'invalid_credentials', data: { username: name } });
    if (acctState.failures >= settings.lockAfter) {
      acctState.lockedUntil = now + settings.lockout;
      await throttle.lock(acct, acctState.lockedUntil);
      // Subject: the username key, for real and unknown names alike (docs/audit-events.md).
      await audit.record({ event: 'account.locked', actor: `ip:${input.ip}`, subject: acct.slice('acct:'.length), ip: input.ip, reason: 'too_many_failures', data: { userId: userId ?? null, until: acctState.lockedUntil } });
    }
    if (ipState.failures >= settings.ipLockAfter) {
      ipState.lockedUntil = now + settings.lockout;
      await throttle.lock(ip, ipState.lockedUntil);
      await audit.record({ event: 'ip.blocked', actor: `ip:${input.ip}`, ip: input.ip, reason: 'too_many_failures', data: { until: ipState.lockedUntil } });
    }
    const retryAfter = Math.max(waitFor(acctState, now, settings), waitFor(ipState, now, settings, 'ip'));
    return retryAfter > 0 ? { ok: false, reason: 'invalid_credentials', retryAfter } : { ok: false, reason: 'invalid_credentials' };
  };

  return {
    authenticate: (input) => serialized(accountKey(input.username), () => attempt(input)),
  };
}
