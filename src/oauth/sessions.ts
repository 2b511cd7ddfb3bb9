/**
 * A user's sign-in sessions as the account page shows them, and ending them
 * (`OAuthComponent.sessions`). Listing reads the adapter's rows; ending goes through the revoker
 * (./session-revocation.ts), so the grants, tokens and the gateway's deny list follow.
 */
import type { Store } from '../store/index.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import type { Revoker } from './revocation.ts';
import { lastIssued, selectSessions } from './session-rows.ts';

export interface SessionSummary {
  /** Public id of the session (oidc-provider's session uid). */
  id: string;
  /** Epoch s of the sign-in. */
  signedInAt: number | undefined;
  expiresAt: number | undefined;
  /** When a token was last issued in it (its last activity; the gateway refreshes while it is used), if known. */
  lastSeenAt: number | undefined;
  /** The `sid` values of the tokens issued in this session (one per client signed in through it). */
  sids: string[];
  /** Clients signed in through this session. */
  clientIds: string[];
}

export interface Sessions {
  /** The user's unexpired sign-in sessions, oldest first. */
  list(userId: string): Promise<SessionSummary[]>;
  /** Ends one session of the user; false when the user has no such session. */
  end(userId: string, sessionId: string, actor: string): Promise<boolean>;
  /** Ends every session of the user; resolves to how many ended. */
  endAll(userId: string, actor: string): Promise<number>;
}

export function createSessions(deps: { store: Store; revoker: Pick<Revoker, 'endSessions'>; clock: Clock }): Sessions {
  const { store, revoker, clock } = deps;
  return {
    async list(userId) {
      const sessions = await selectSessions(store.db, userId, epochSeconds(clock));
      const sidsOf = (s: (typeof sessions)[number]) => s.authorizations.map((a) => a.sid).filter((sid): sid is string => sid !== undefined);
      const last = await lastIssued(store.db, userId, sessions.flatMap(sidsOf));
      return sessions.map((s) => {
        const seen = sidsOf(s).map((sid) => last.get(sid)).filter((t): t is number => t !== undefined);
        return {
          id: s.uid,
          signedInAt: s.signedInAt,
          expiresAt: s.expiresAt,
          lastSeenAt: seen.length > 0 ? Math.max(...seen) : undefined,
          sids: sidsOf(s),
          clientIds: s.authorizations.map((a) => a.clientId),
        };
      });
    },
    async end(userId, sessionId, actor) {
      return (await revoker.endSessions(userId, [sessionId], 'session_ended', actor)) > 0;
    },
    async endAll(userId, actor) {
      return revoker.endSessions(userId, 'all', 'sessions_ended', actor);
    },
  };
}
