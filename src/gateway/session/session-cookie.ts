/**
 * The browser session itself: the tokens of one sign-in, sealed into the session cookie. There is
 * no server-side store — the cookie is the session, and it ends when it expires, when its key
 * leaves the ring, or when the refresh token stops working.
 *
 * Contents (claims of the encrypted JWT): `at` access token, `atx` its expiry, `rt` refresh token,
 * `it` ID token (the hint for RP-initiated logout), `sub`, and `exp` = the end of the session
 * (sign-in + sessionTtl; without a refresh token, no later than the access token).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { appendSetCookie, chunkedCookieLines, clearChunkedLines, hasChunked, readChunked } from './cookies.ts';
import { SESSION_TYP, type KeyRing } from './sealed.ts';
import type { Tokens } from './relying-party.ts';

export interface Session extends Tokens {
  /** Epoch seconds when the session ends whatever happens. */
  expiresAt: number;
}

const claimsSchema = z.object({
  at: z.string().min(1),
  atx: z.number().int(),
  rt: z.string().min(1).optional(),
  it: z.string().min(1).optional(),
  sub: z.string().optional(),
  exp: z.number().int(),
});

/** A session's tokens as sealed claims (`exp`, the session's end, is set by the seal). */
export function sessionClaims(session: Session): Record<string, string | number> {
  return {
    at: session.accessToken,
    atx: session.accessTokenExpiresAt,
    ...(session.refreshToken ? { rt: session.refreshToken } : {}),
    ...(session.idToken ? { it: session.idToken } : {}),
    ...(session.sub ? { sub: session.sub } : {}),
  };
}

/** The session in opened claims; undefined when they are not a session's. */
export function sessionFromClaims(claims: unknown): Session | undefined {
  const parsed = claimsSchema.safeParse(claims);
  if (!parsed.success) return undefined;
  const { at, atx, rt, it, sub, exp } = parsed.data;
  return { accessToken: at, accessTokenExpiresAt: atx, refreshToken: rt, idToken: it, sub, expiresAt: exp };
}

export type CookieRead =
  | { state: 'absent' }
  | { state: 'invalid' }
  | { state: 'valid'; session: Session; value: string };

export interface SessionCookie {
  read(req: IncomingMessage, now: number): Promise<CookieRead>;
  /** Sets the cookie on `res`; false when the session is too large for the cookie chunks allowed. */
  write(req: IncomingMessage, res: ServerResponse, session: Session, now: number): Promise<boolean>;
  clear(req: IncomingMessage, res: ServerResponse): void;
  /** A session for fresh tokens: it ends at `sessionEnd`, or with the access token when there is no refresh token. */
  fromTokens(tokens: Tokens, sessionEnd: number): Session;
}

export function createSessionCookie(options: { name: string; secure: boolean; ring: KeyRing }): SessionCookie {
  const { name, secure, ring } = options;
  return {
    async read(req, now) {
      const found = readChunked(req.headers.cookie, name);
      if (!found) return hasChunked(req.headers.cookie, name) ? { state: 'invalid' } : { state: 'absent' };
      const session = sessionFromClaims(await ring.open(found.value, SESSION_TYP, now));
      return session === undefined ? { state: 'invalid' } : { state: 'valid', value: found.value, session };
    },

    async write(req, res, session, now) {
      const value = await ring.seal(sessionClaims(session), SESSION_TYP, session.expiresAt, now);
      const lines = chunkedCookieLines(name, value, { path: '/', maxAge: session.expiresAt - now, secure }, req.headers.cookie);
      if (!lines) return false;
      appendSetCookie(res, lines);
      return true;
    },

    clear(req, res) {
      appendSetCookie(res, clearChunkedLines(name, secure, req.headers.cookie));
    },

    fromTokens(tokens, sessionEnd) {
      return { ...tokens, expiresAt: tokens.refreshToken ? sessionEnd : Math.min(sessionEnd, tokens.accessTokenExpiresAt) };
    },
  };
}
