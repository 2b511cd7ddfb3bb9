/**
 * Login throttling, per account name and per client IP.
 *
 * After `freeAttempts` failures of one account name (`ipFreeAttempts` from one IP: many users
 * may share a NAT address) within `window`, each further attempt must wait a delay that
 * starts at `baseDelay` and doubles up to `maxDelay`; `lockAfter` failures on an account lock it
 * for `lockout` seconds, `ipLockAfter` failures from one IP block that IP as long. During a delay
 * or a lock, attempts are refused before any password is checked. Counters are keyed by the
 * SUBMITTED name, so an unknown name is throttled exactly like a real one and a lockout reveals
 * nothing about which accounts exist; per client by its address bucket (an IPv4 address or an
 * IPv6 /64, ../shared/client-address.ts), so rotating through one's own /64 gains nothing.
 *
 * The counters sit behind `ThrottleStore` (SQL table `login_throttle` now, Redis later).
 */
import type { Executor } from '../store/index.ts';
import { addressBucket } from '../shared/client-address.ts';

export interface ThrottleState {
  failures: number;
  firstFailureAt: number;
  lastFailureAt: number;
  lockedUntil: number | null;
}

export interface ThrottleStore {
  get(key: string): Promise<ThrottleState | undefined>;
  /** The states of several keys in one read; keys without a state are absent from the map. */
  getMany(keys: readonly string[]): Promise<Map<string, ThrottleState>>;
  /**
   * Atomically counts one failure at `now` and returns the new state. Counting restarts when
   * the first failure is older than `window` seconds or a lock has run out.
   */
  recordFailure(key: string, now: number, window: number): Promise<ThrottleState>;
  lock(key: string, until: number): Promise<void>;
  reset(key: string): Promise<void>;
  /** Takes back one failure counted ahead of time (the attempt turned out not to be one). */
  refund(key: string): Promise<void>;
}

export interface ThrottleSettings {
  freeAttempts: number;
  ipFreeAttempts: number;
  baseDelay: number;
  maxDelay: number;
  lockAfter: number;
  lockout: number;
  window: number;
  ipLockAfter: number;
}

export const accountKey = (username: string) => `acct:${username.trim().toLowerCase().slice(0, 128)}`;
export const ipKey = (ip: string) => `ip:${addressBucket(ip)}`;

/**
 * Seconds until the next attempt for this key is allowed (0 = now). `kind` picks the free
 * attempts: per account name, or the larger allowance per client IP.
 */
export function waitFor(state: ThrottleState | undefined, now: number, settings: ThrottleSettings, kind: 'account' | 'ip' = 'account'): number {
  if (!state) return 0;
  if (state.lockedUntil !== null && state.lockedUntil > now) return state.lockedUntil - now;
  if (state.lockedUntil !== null) return 0; // the lock ran out: the next failure starts afresh
  if (now - state.firstFailureAt >= settings.window) return 0;
  const beyondFree = state.failures - (kind === 'ip' ? settings.ipFreeAttempts : settings.freeAttempts);
  if (beyondFree <= 0) return 0;
  const delay = Math.min(settings.baseDelay * 2 ** (beyondFree - 1), settings.maxDelay);
  return Math.max(0, state.lastFailureAt + delay - now);
}

export function createSqlThrottleStore(db: Executor): ThrottleStore {
  const toState = (row: { failures: number; first_failure_at: number; last_failure_at: number; locked_until: number | null }): ThrottleState => ({
    failures: Number(row.failures),
    firstFailureAt: Number(row.first_failure_at),
    lastFailureAt: Number(row.last_failure_at),
    lockedUntil: row.locked_until === null ? null : Number(row.locked_until),
  });
  return {
    async get(key) {
      const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirst();
      return row ? toState(row) : undefined;
    },
    async getMany(keys) {
      if (keys.length === 0) return new Map();
      const rows = await db.selectFrom('login_throttle').selectAll().where('key', 'in', keys).execute();
      return new Map(rows.map((row) => [row.key, toState(row)]));
    },
    async recordFailure(key, now, window) {
      const row = await db
        .insertInto('login_throttle')
        .values({ key, failures: 1, first_failure_at: now, last_failure_at: now, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => {
            const restart = eb.or([
              eb('login_throttle.first_failure_at', '<=', now - window),
              eb.and([eb('login_throttle.locked_until', 'is not', null), eb('login_throttle.locked_until', '<=', now)]),
            ]);
            return {
              failures: eb.case().when(restart).then(1).else(eb('login_throttle.failures', '+', 1)).end(),
              first_failure_at: eb.case().when(restart).then(now).else(eb.ref('login_throttle.first_failure_at')).end(),
              last_failure_at: now,
              locked_until: eb.case().when(restart).then(null).else(eb.ref('login_throttle.locked_until')).end(),
            };
          }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return toState(row);
    },
    async lock(key, until) {
      await db.updateTable('login_throttle').set({ locked_until: until }).where('key', '=', key).execute();
    },
    async reset(key) {
      await db.deleteFrom('login_throttle').where('key', '=', key).execute();
    },
    async refund(key) {
      await db.updateTable('login_throttle').set((eb) => ({ failures: eb('failures', '-', 1) })).where('key', '=', key).where('failures', '>', 0).execute();
    },
  };
}
