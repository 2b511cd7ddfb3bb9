/**
 * Refreshing a session's access token, once per refresh token in this process.
 *
 * Refresh tokens rotate, and presenting a rotated one again is treated by the Security Service as
 * theft: it revokes the whole grant. A browser often sends several requests at once with the same
 * cookie, and a request that left before the new cookie arrived still carries the old one. So
 * concurrent refreshes of one token share one call, and its outcome is remembered for a short
 * grace period (in memory, keyed by a digest of the token): a late request with the old cookie
 * gets the new tokens instead of triggering reuse detection. Several gateway replicas share it
 * through Redis when `gateway.redis` is set (./shared-refreshes.ts); see docs/gateway.md.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../shared/logger.ts';
import { failureCode, isUnavailable, type RelyingParty } from './relying-party.ts';
import type { Session } from './session-cookie.ts';
import type { SharedRefreshes } from './shared-refreshes.ts';

export type RefreshOutcome =
  | { kind: 'refreshed'; session: Session }
  /** The grant is gone (revoked, expired, user disabled): the session is over. */
  | { kind: 'ended' }
  /** The Security Service could not be asked: keep the session as it is for now. */
  | { kind: 'unavailable' };

/** How long the outcome of a refresh is reused for requests still carrying the old cookie. */
export const REFRESH_GRACE_SECONDS = 30;
const MAX_REMEMBERED = 10_000;

export interface Refresher {
  refresh(session: Session & { refreshToken: string }, now: number): Promise<RefreshOutcome>;
  clear(): void;
}

export function createRefresher(deps: { rp: RelyingParty; logger: Logger; now: () => number; shared?: SharedRefreshes | undefined }): Refresher {
  const flights = new Map<string, { outcome: Promise<RefreshOutcome>; until: number }>();

  function prune(now: number): void {
    for (const [key, flight] of flights) {
      if (flight.until > now && flights.size <= MAX_REMEMBERED) break; // insertion order ≈ expiry order
      flights.delete(key);
    }
  }

  async function run(session: Session & { refreshToken: string }, now: number): Promise<RefreshOutcome> {
    try {
      const tokens = await deps.rp.refresh(session.refreshToken, now);
      deps.logger.debug({ sub: session.sub }, 'browser session refreshed');
      return { kind: 'refreshed', session: { ...tokens, sub: tokens.sub ?? session.sub, idToken: tokens.idToken ?? session.idToken, expiresAt: session.expiresAt } };
    } catch (error) {
      if (isUnavailable(error)) {
        deps.logger.warn({ sub: session.sub, reason: failureCode(error) }, 'browser session refresh failed: Security Service unavailable');
        return { kind: 'unavailable' };
      }
      deps.logger.info({ sub: session.sub, reason: failureCode(error) }, 'browser session ended: refresh refused');
      return { kind: 'ended' };
    }
  }

  return {
    refresh(session, now) {
      prune(deps.now());
      const key = createHash('sha256').update(session.refreshToken).digest('base64url');
      const existing = flights.get(key);
      if (existing) return existing.outcome;
      const outcome = deps.shared === undefined ? run(session, now) : deps.shared.once(key, now, () => run(session, now));
      flights.set(key, { outcome, until: Number.POSITIVE_INFINITY });
      void outcome.then((result) => {
        // A failure to reach the Security Service is not remembered: the next request tries again.
        if (result.kind === 'unavailable') flights.delete(key);
        else {
          flights.delete(key); // re-insert to keep insertion order ≈ expiry order
          flights.set(key, { outcome, until: deps.now() + REFRESH_GRACE_SECONDS });
        }
      });
      return outcome;
    },
    clear() {
      flights.clear();
    },
  };
}
