/**
 * Where a request's access token comes from. Authenticators are tried in order until one is
 * responsible (oathkeeper's "not mine"): the `Authorization: Bearer` header first, then —
 * when browser sign-in is configured — the session cookie (src/gateway/session/). Either way the
 * token is then verified by the same verifier; an authenticator only finds it.
 *
 * Tokens are accepted in the Authorization header only, never in the query or the body
 * (RFC 6750 §2.3 leaks them into logs and Referer headers).
 */
import type { GatehouseError } from '../shared/errors.ts';
import { bearerError } from '../shared/bearer-challenge.ts';
import type { Exchange, Stage } from './exchange.ts';

/** A token, a coded error (mine, but broken), or undefined (not mine: try the next one). */
export type Credential = string | GatehouseError | undefined;

export interface Authenticator {
  readonly name: 'bearer' | 'session';
  credential(exchange: Exchange): Credential | Promise<Credential>;
}

/**
 * The seam browser sign-in plugs into (built by src/gateway/session/ when `gateway.sso` is set).
 * The pipeline stays the same: the session's authenticator yields the access token from the
 * encrypted cookie when no Authorization header was sent, and the gateway strips the cookie
 * before forwarding, so upstreams only ever see `Authorization: Bearer`.
 */
export interface SessionSupport {
  readonly authenticator: Authenticator;
  /** The cookie's name as browsers send it (with `__Host-` on https). */
  readonly cookieName: string;
  /** Gateway-owned paths: /login, /login/callback, /logout. */
  readonly paths: ReadonlyMap<string, Stage>;
  /** Where a browser (Accept: text/html) without a session is sent instead of a 401. */
  loginRedirect(exchange: Exchange): string;
  close?(): Promise<void>;
}

/** b64token of RFC 6750 §2.1. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * `Authorization: Bearer <token>`. Another scheme (Basic, …) is "not mine": the caller sent no
 * bearer credential (RFC 6750 §3.1: no error code then). A malformed one is `invalid_token`.
 */
export function bearerAuthenticator(maxTokenBytes: number): Authenticator {
  return {
    name: 'bearer',
    credential(exchange) {
      const header = exchange.head!.authorization;
      if (header === undefined) return undefined;
      if (header.length < 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
      let start = 7;
      while (header.charCodeAt(start) === 32) start += 1;
      const token = header.slice(start);
      if (token.length > maxTokenBytes) return bearerError('invalid_token', undefined, `bearer token of ${token.length} bytes exceeds maxTokenBytes`);
      if (!B64TOKEN.test(token)) return bearerError('invalid_token', undefined, 'malformed bearer token');
      return token;
    },
  };
}
