/**
 * Where a request's access token comes from. Authenticators are tried in order until one is
 * responsible (oathkeeper's "not mine"): a personal API token in `Authorization` (Bearer gth_… or
 * Basic with a gth_… password, exchanged for an access token: ./api-tokens/), then the
 * `Authorization: Bearer` header, then — when browser sign-in is configured — the session cookie
 * (src/gateway/session/). Either way the access token is then verified by the same verifier; an
 * authenticator only finds it.
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
  readonly name: 'bearer' | 'session' | 'api-token';
  credential(exchange: Exchange): Credential | Promise<Credential>;
  /**
   * The verifier refused the token this authenticator found (revoked, say): forget whatever
   * produced it and answer with this error. Without it: 401 invalid_token.
   */
  refused?(exchange: Exchange, token: string, reason: string): GatehouseError;
}

/**
 * The seam browser sign-in plugs into (built by src/gateway/session/ when `gateway.sso` is set).
 * The pipeline stays the same: the session's authenticator yields the access token from the
 * encrypted cookie when no Authorization header was sent, and the gateway strips the cookie
 * before forwarding, so upstreams only ever see `Authorization: Bearer`.
 */
export interface SessionSupport {
  readonly authenticator: Authenticator;
  /** The Cookie header without the session's cookies (all its chunks, the sign-in cookie); undefined when nothing is left. */
  stripCookie(cookie: string): string | undefined;
  /** Gateway-owned paths: /login, /login/callback, /logout. */
  readonly paths: ReadonlyMap<string, Stage>;
  /** Where a browser (Accept: text/html) without a session is sent instead of a 401. */
  loginRedirect(exchange: Exchange): string;
  /** The verifier refused the session's token (revoked, say): clear the cookie on the response. */
  discard(exchange: Exchange): void;
  close?(): Promise<void>;
}

/** `Bearer ` (any case) at the start of `header`, compared without allocating. */
export function hasBearerScheme(header: string): boolean {
  return header.length > 7
    && (header.charCodeAt(0) | 0x20) === 0x62 // b
    && (header.charCodeAt(1) | 0x20) === 0x65 // e
    && (header.charCodeAt(2) | 0x20) === 0x61 // a
    && (header.charCodeAt(3) | 0x20) === 0x72 // r
    && (header.charCodeAt(4) | 0x20) === 0x65 // e
    && (header.charCodeAt(5) | 0x20) === 0x72 // r
    && header.charCodeAt(6) === 0x20;
}

/**
 * `Authorization: Bearer <token>`. Another scheme (Basic, …) is "not mine": the caller sent no
 * bearer credential (RFC 6750 §3.1: no error code then). An oversized token is refused here; any
 * other malformed one by the verifier (it is not a JWS) — the same 401 `invalid_token` either way,
 * without a regular expression over every token on the hot path.
 */
export function bearerAuthenticator(maxTokenBytes: number): Authenticator {
  return {
    name: 'bearer',
    credential(exchange) {
      const header = exchange.head!.authorization;
      if (header === undefined || !hasBearerScheme(header)) return undefined;
      let start = 7;
      while (header.charCodeAt(start) === 0x20) start += 1;
      const token = header.slice(start);
      if (token.length === 0) return bearerError('invalid_token', undefined, 'empty bearer token');
      if (token.length > maxTokenBytes) return bearerError('invalid_token', undefined, `bearer token of ${token.length} bytes exceeds maxTokenBytes`);
      return token;
    },
  };
}
