/**
 * One refresh per refresh token across every gateway replica, through Redis (`gateway.redis`).
 *
 * A browser's parallel requests with an expiring cookie may reach different replicas. Each would
 * refresh with the same refresh token, and the Security Service takes the second presentation of
 * a rotated token for theft and revokes the grant: the person is signed out. So the replica that
 * takes the token's lock (`SET NX`, expiring by itself if that replica dies) asks the Security
 * Service, and leaves the outcome in Redis for the grace period; the others wait for it and set
 * the same new cookie. The outcome is sealed under the cookie key, as the cookie is: Redis never
 * holds a token in clear, and nothing written there by anyone else passes for an outcome.
 *
 * Redis down or silent never holds a session: without an answer the replica refreshes by itself,
 * as a lone replica does (the race is then possible again, and only then).
 */
import type { GatewayRedis } from '../redis.ts';
import type { KeyRing } from './sealed.ts';
import { sessionClaims, sessionFromClaims } from './session-cookie.ts';
import type { RefreshOutcome } from './refresh.ts';

const REFRESH_TYP = 'gatehouse-refresh+jwt';
/** How long a replica may hold a refresh token's lock (a refresh that takes longer is given up by the others). */
const LOCK_MS = 10_000;
const POLL_MS = 25;

export interface SharedRefreshes {
  /**
   * `refresh()`'s outcome for the refresh token whose SHA-256 digest is `tokenDigest`: asked of
   * the Security Service by this replica when it takes the token's lock, else the one another
   * replica got.
   */
  once(tokenDigest: string, now: number, refresh: () => Promise<RefreshOutcome>): Promise<RefreshOutcome>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function createSharedRefreshes(redis: GatewayRedis, deps: { ring: KeyRing; graceSeconds: number }): SharedRefreshes {
  const { client } = redis;
  const { ring, graceSeconds } = deps;
  const withoutRedis = redis.warningWhenWithout('shared session refreshes unavailable: this replica refreshes by itself until Redis answers');

  const seal = (outcome: RefreshOutcome, now: number): Promise<string> =>
    outcome.kind === 'refreshed'
      ? ring.seal(sessionClaims(outcome.session), REFRESH_TYP, outcome.session.expiresAt, now)
      : ring.seal({ outcome: 'ended' }, REFRESH_TYP, now + graceSeconds, now);

  const open = async (value: string, now: number): Promise<RefreshOutcome | undefined> => {
    const claims = await ring.open(value, REFRESH_TYP, now);
    if (claims === undefined) return undefined;
    if (claims.outcome === 'ended') return { kind: 'ended' };
    const session = sessionFromClaims(claims);
    return session === undefined ? undefined : { kind: 'refreshed', session };
  };

  /** Another replica holds the lock: its outcome once it is there; unavailable when it gave up (or died) without one. */
  async function outcomeOf(outcomeKey: string, lockKey: string, now: number): Promise<RefreshOutcome> {
    const deadline = Date.now() + LOCK_MS;
    while (Date.now() < deadline) {
      // The lock first: its holder stores the outcome before it lets go, so no lock and then no outcome means none is coming.
      const [locked, value] = await client.multi().exists(lockKey).get(outcomeKey).exec();
      if (typeof value === 'string') return (await open(value, now)) ?? { kind: 'unavailable' };
      if (Number(locked) === 0) return { kind: 'unavailable' };
      await sleep(POLL_MS);
    }
    return { kind: 'unavailable' };
  }

  return {
    async once(tokenDigest, now, refresh) {
      if (!client.isReady) {
        withoutRedis(new Error('not connected'));
        return refresh();
      }
      const key = `${redis.keyPrefix}refresh:${tokenDigest}`;
      const outcomeKey = `${key}:outcome`;
      const lockKey = `${key}:lock`;
      try {
        const done = await client.get(outcomeKey);
        if (done !== null) {
          const outcome = await open(done, now);
          if (outcome !== undefined) return outcome;
        }
        const locked = (await client.set(lockKey, '1', { condition: 'NX', expiration: { type: 'PX', value: LOCK_MS } })) === 'OK';
        if (!locked) return await outcomeOf(outcomeKey, lockKey, now);
      } catch (error) {
        withoutRedis(error);
        return refresh();
      }
      const outcome = await refresh();
      try {
        // A failure to reach the Security Service is not shared: the next request anywhere tries again.
        if (outcome.kind !== 'unavailable') await client.set(outcomeKey, await seal(outcome, now), { expiration: { type: 'PX', value: graceSeconds * 1000 } });
        await client.del(lockKey);
      } catch (error) {
        // The others find no outcome and keep their sessions as they are; the lock expires by itself.
        withoutRedis(error);
      }
      return outcome;
    },
  };
}
