/**
 * Password login with no user enumeration and with throttling (see ./throttle.ts).
 *
 * - Unknown user, user without a password and wrong password all verify one argon2id hash
 *   (a precomputed dummy for the first two) and count one failure: same answer, similar time.
 * - A disabled user is reported as such only after the password was verified correct.
 * - During a delay or lock the attempt is refused before any hash, and audited with the account
 *   it tried: reason `throttled` (a delay) or `locked`. Both counters are read in one statement,
 *   and an address already waiting is refused on that read, without queueing for its bucket's
 *   check-and-charge (a flood from one address is mostly such refusals).
 * - The client's budget is checked AND charged before the hash: every attempt counts as a failure
 *   of its address bucket up front (the store's atomic upsert) and is given back when it turns out
 *   not to be one (right password, busy). Within this process the check-and-charge of one bucket
 *   runs one at a time, so a parallel spray over many names from one address costs at most
 *   `ipLockAfter` hashes (fewer once the delays after `ipFreeAttempts` start). Across instances on
 *   PostgreSQL the upsert takes the row's lock, so concurrent charges are ordered and each returns
 *   its own count: the `ipLockAfter` budget holds there too; only the delays, checked on the count
 *   read just before charging, can be passed by two instances at the same moment.
 * - Attempts on one account name are serialized within this process, so a parallel burst cannot
 *   slip past the account counters between the check and the count.
 * - Hashing is bounded (./passwords.ts): with the queue full the attempt is answered `busy`
 *   (503 + Retry-After), its charge given back, nothing else counted.
 */
import type { Store } from '../store/index.ts';
import type { AuditLog } from '../events/audit.ts';
import type { Logger } from '../shared/logger.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { randomToken } from '../shared/random.ts';
import type { PasswordHasher } from './passwords.ts';
import { accountKey, ipKey, waitFor, type ThrottleSettings, type ThrottleState, type ThrottleStore } from './throttle.ts';
import { selectUserId, selectUserWithRoles, toUser } from './user-repository.ts';
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
const MAX_USERNAME = 128;

type Input = { username: string; password: string; ip: string };
type Refusal = { reason: 'throttled' | 'locked'; retryAfter: number; scope: 'account' | 'ip' };
type Admission = { ok: true; charged: ThrottleState } | ({ ok: false } & Refusal);

const locked = (state: ThrottleState | undefined, now: number) => state?.lockedUntil != null && state.lockedUntil > now;

/** The refusal for an account or address still in a delay or lock at `now`, else undefined. */
function waiting(state: ThrottleState | undefined, now: number, settings: ThrottleSettings, scope: Refusal['scope']): Refusal | undefined {
  const retryAfter = waitFor(state, now, settings, scope);
  return retryAfter > 0 ? { reason: locked(state, now) ? 'locked' : 'throttled', retryAfter, scope } : undefined;
}

export function createAuthenticator(deps: AuthenticatorDeps): Authenticator {
  const { store, audit, clock, hasher, throttle, settings } = deps;
  let dummyHash: Promise<string> | undefined;
  const dummy = () => (dummyHash ??= hasher.hash(randomToken(24)));
  // Precompute now (off the main thread) so the first unknown-user login is not the slow one.
  dummy().catch(() => { dummyHash = undefined; });
  const queues = new Map<string, Promise<unknown>>();

  /** Runs work on one key one after another (in this process). */
  const serialized = <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const settled = run.catch(() => {});
    queues.set(key, settled);
    void settled.then(() => { if (queues.get(key) === settled) queues.delete(key); });
    return run;
  };

  /** Checks the client's delay and budget and charges one failure, as one step per bucket. */
  const admit = (ip: string, now: number) => serialized(ip, async (): Promise<Admission> => {
    const refusal = waiting(await throttle.get(ip), now, settings, 'ip');
    if (refusal) return { ok: false, ...refusal };
    const charged = await throttle.recordFailure(ip, now, settings.window);
    if (charged.failures <= settings.ipLockAfter) return { ok: true, charged };
    // Attempts still being checked hold the rest of the budget (another instance's, on a shared
    // store): if they fail, the address is locked; this one does not get to find out first.
    await throttle.refund(ip);
    return { ok: false, reason: 'throttled', retryAfter: Math.max(1, settings.baseDelay), scope: 'ip' };
  });

  /** A refusal before any hash, audited with the account tried (its id when it exists, the name in `data`). */
  const refuse = async (input: Input, refusal: Refusal): Promise<LoginResult> => {
    const username = input.username.slice(0, MAX_USERNAME);
    const userId = input.username.length <= MAX_USERNAME ? await selectUserId(store.db, input.username.trim().toLowerCase()) : undefined;
    await audit.record({ event: 'login.failed', actor: `ip:${input.ip}`, subject: userId ?? null, ip: input.ip, reason: refusal.reason, data: { username, scope: refusal.scope, retryAfter: refusal.retryAfter } });
    return { ok: false, reason: refusal.reason, retryAfter: refusal.retryAfter };
  };

  const attempt = async (input: Input): Promise<LoginResult> => {
    const now = epochSeconds(clock);
    const acct = accountKey(input.username);
    const ip = ipKey(input.ip);
    // Both counters in one read: a refused attempt costs one statement less.
    const states = await throttle.getMany([acct, ip]);
    const acctState = states.get(acct);
    const accountRefusal = waiting(acctState, now, settings, 'account');
    if (accountRefusal) return refuse(input, accountRefusal);
    // An address already waiting is refused on this read, without queueing for the check-and-charge:
    // it is the address's state at this attempt's `now`, as that check would read it; all the check
    // could see on top are other attempts' charges (stricter still) or a charge given back by an
    // attempt in flight — this one then counts as having come just before.
    const addressRefusal = waiting(states.get(ip), now, settings, 'ip');
    if (addressRefusal) return refuse(input, addressRefusal);
    const admission = await admit(ip, now);
    if (!admission.ok) return refuse(input, admission);

    let charged = true;
    const giveBack = async () => {
      if (!charged) return;
      charged = false;
      await throttle.refund(ip);
    };
    try {
      const found = input.username.length <= MAX_USERNAME ? await selectUserWithRoles(store.db, { usernameKey: input.username.trim().toLowerCase() }) : undefined;
      const storedHash = found?.row.password_hash ?? null;
      const password = input.password.slice(0, MAX_PASSWORD_INPUT);
      const verified = await hasher.verify(password, storedHash ?? (await dummy()));
      if (!found || storedHash === null || !verified) {
        charged = false; // the charge stands: it was a failure
        return await failed(input, now, acct, ip, admission.charged, found?.row.id);
      }
      await giveBack();

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
    } catch (error) {
      await giveBack().catch(() => {});
      if (!isGatehouseError(error) || error.code !== 'server_busy') throw error;
      const retryAfter = Number(error.headers?.['retry-after'] ?? 1);
      await audit.record({ event: 'login.failed', actor: `ip:${input.ip}`, ip: input.ip, reason: 'busy', data: { username: input.username.slice(0, MAX_USERNAME), retryAfter } });
      return { ok: false, reason: 'busy', retryAfter };
    }
  };

  const failed = async (input: Input, now: number, acct: string, ip: string, ipState: ThrottleState, userId: string | undefined): Promise<LoginResult> => {
    const acctState = await throttle.recordFailure(acct, now, settings.window);
    const name = input.username.slice(0, MAX_USERNAME);
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
      await audit.record({ event: 'ip.blocked', actor: `ip:${input.ip}`, ip: input.ip, reason: 'too_many_failures', data: { until: ipState.lockedUntil, bucket: ip.slice('ip:'.length) } });
    }
    const retryAfter = Math.max(waitFor(acctState, now, settings), waitFor(ipState, now, settings, 'ip'));
    return retryAfter > 0 ? { ok: false, reason: 'invalid_credentials', retryAfter } : { ok: false, reason: 'invalid_credentials' };
  };

  return {
    authenticate: (input) => serialized(accountKey(input.username), () => attempt(input)),
  };
}
