/**
 * Who is asking for the account page: the user of a browser session, proven by the access token
 * the gateway puts in `Authorization: Bearer` (from its session cookie), or that a test sends.
 *
 * Accepted only when the token is one of a person's sign-in session and nothing else:
 *  - it verifies (signature, issuer, typ, lifetime: the tokens component) for the page's audience,
 *  - it names a session (`sid`) and is not scope-bound (no personal API token, no third-party app),
 *  - it was issued to a first-party client (our own apps: the gateway's browser sign-in),
 *  - it was not revoked, the user is active, and the session it names still exists
 *    (a session ended here, or by a password change, ends the page at once — the gateway's deny
 *    list follows within a second).
 * Anything else is "not signed in" (401), never a hint which check failed.
 */
import type { FastifyRequest } from 'fastify';
import type { AccountDeps, AccountSession, AccountUser } from './types.ts';

export interface AccountCaller {
  user: AccountUser;
  /** The caller's `sid`. */
  sid: string;
  /** The caller's session among `sessions`. */
  session: AccountSession;
  sessions: AccountSession[];
  /** `user:<id>`, for audit rows. */
  actor: string;
}

const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

export class NotSignedIn extends Error {
  /** The subject of a token that verified but whose session is gone (the flash cookie may still be read for it). */
  readonly subject: string | undefined;
  constructor(reason: string, subject?: string) {
    super(reason);
    this.subject = subject;
  }
}

export function createCallerCheck(deps: Pick<AccountDeps, 'verifier' | 'audience' | 'isTokenRevoked' | 'isFirstParty' | 'users' | 'sessions'>) {
  return async function caller(request: FastifyRequest): Promise<AccountCaller> {
    const header = request.headers.authorization;
    const match = header === undefined ? null : BEARER.exec(header);
    if (!match) throw new NotSignedIn('no bearer token');
    let verified: Awaited<ReturnType<AccountDeps['verifier']['inspect']>>;
    try {
      verified = await deps.verifier.inspect(match[1]!);
    } catch {
      throw new NotSignedIn('token does not verify');
    }
    const { claims, payload } = verified;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(deps.audience)) throw new NotSignedIn('wrong audience');
    if (typeof claims.sid !== 'string' || claims.sid === '') throw new NotSignedIn('no session');
    if (payload.scope_bound === true || payload.api_token_id !== undefined) throw new NotSignedIn('scope-bound token');
    if (!(await deps.isFirstParty(claims.client_id))) throw new NotSignedIn('not a first-party client');
    if (await deps.isTokenRevoked(claims.jti)) throw new NotSignedIn('token revoked', claims.sub);
    const user = await deps.users.findById(claims.sub);
    if (!user || user.status !== 'active') throw new NotSignedIn('user disabled or gone');
    const sessions = await deps.sessions.list(user.id);
    const session = sessions.find((s) => s.sids.includes(claims.sid!));
    if (!session) throw new NotSignedIn('session ended', user.id);
    return { user, sid: claims.sid, session, sessions, actor: `user:${user.id}` };
  };
}
