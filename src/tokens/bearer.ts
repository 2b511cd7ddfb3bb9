/**
 * Bearer tokens on our own APIs (RFC 6750): parsing the Authorization header strictly, and the
 * one place that turns an authentication failure into `WWW-Authenticate`. Errors thrown here carry
 * their challenge header, so the shared error handler answers 400/401/403 with problem details and
 * the right header whoever throws them.
 */
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { GatehouseError, isGatehouseError } from '../shared/errors.ts';
import { BEARER_REALM, bearerChallenge, bearerError, type BearerErrorCode } from '../shared/bearer-challenge.ts';
import { scopeIncludes } from '../shared/scope.ts';
import type { AccessTokenClaims, AccessTokenVerifier } from './verifier.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified access token, set by `requireAccessToken`. */
    accessToken?: AccessTokenClaims;
  }
}

export { BEARER_REALM, bearerChallenge, bearerError, type BearerErrorCode };

/** b64token of RFC 6750 §2.1. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * The token of `Authorization: Bearer <token>`. Missing → 401 without an error code; two
 * Authorization headers, another scheme or a malformed token → 400 invalid_request.
 */
export function bearerToken(request: Pick<FastifyRequest, 'headers' | 'raw'>): string {
  // Node keeps only the first of duplicate Authorization headers; refuse the ambiguity.
  const raw = request.raw.rawHeaders;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'authorization') count += 1;
  if (count > 1) throw bearerError('invalid_request', 'Send exactly one Authorization header');
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw bearerError('unauthorized', 'A bearer access token is required');
  const match = /^Bearer +(\S+)$/i.exec(header);
  if (!match || !B64TOKEN.test(match[1]!)) throw bearerError('invalid_request', 'Expected Authorization: Bearer <token>');
  return match[1]!;
}

export interface RequireAccessTokenOptions {
  verifier: AccessTokenVerifier;
  audience: string;
  /** Further checks on the claims; throw `GatehouseError('insufficient_scope' | 'forbidden')` to refuse. */
  check?: (claims: AccessTokenClaims) => void;
}

/** A fastify preHandler: verifies the bearer token, runs `check`, sets `request.accessToken`. */
export function requireAccessToken(options: RequireAccessTokenOptions): preHandlerAsyncHookHandler {
  return async (request) => {
    const claims = await options.verifier.verify(bearerToken(request), { audience: options.audience });
    if (options.check) {
      try {
        options.check(claims);
      } catch (error) {
        if (isGatehouseError(error) && error.code === 'insufficient_scope' && !error.headers?.['www-authenticate']) {
          const scope = typeof error.extensions?.scope === 'string' ? error.extensions.scope : undefined;
          throw bearerError('insufficient_scope', error.description, error.detail, scope);
        }
        throw error;
      }
    }
    request.accessToken = claims;
  };
}

/** A `check` for requireAccessToken: the token's scope must include `scope`. */
export function requireScope(scope: string): (claims: AccessTokenClaims) => void {
  return (claims) => {
    if (!scopeIncludes(claims.scope, scope)) {
      throw bearerError('insufficient_scope', `The access token lacks the scope ${scope}`, undefined, scope);
    }
  };
}
