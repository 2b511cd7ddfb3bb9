/**
 * The personal-API-token authenticator: `Authorization: Bearer gth_…`, or HTTP Basic with a
 * gth_… password (any user name), for tools that only speak Basic. Any other Authorization is
 * "not mine" (a Bearer JWT goes on to the bearer authenticator; other Basic gets the usual 401).
 *
 * Per request, on the usual path: the scheme and prefix are compared in place, the token is
 * digested once (SHA-256) and the digest finds the exchanged access token in ./exchange-cache.ts —
 * which the authenticate stage then checks with the verifier's cached path, like any bearer token,
 * so a revocation event naming it refuses it at once (`refused` then drops it from the cache).
 * A new token is first checked offline (prefix, length, alphabet, CRC32: a typo costs no network
 * call), then exchanged once at the Security Service (./token-exchange.ts).
 *
 * Refusals: 401 invalid_token with the Bearer challenge (RFC 6750 §3.1) — and a Basic challenge
 * first when the token came as Basic (RFC 7617) — or 503 when the Security Service cannot say.
 */
import { hash } from 'node:crypto';
import { GatehouseError } from '../../shared/errors.ts';
import { BEARER_REALM, bearerChallenge } from '../../shared/bearer-challenge.ts';
import { API_TOKEN_PREFIX, API_TOKEN_LENGTH, tokenShapeProblem } from '../../shared/api-token-format.ts';
import { hasBearerScheme, type Authenticator, type Credential } from '../authenticators.ts';
import type { Exchange } from '../exchange.ts';
import type { ExchangeCache } from './exchange-cache.ts';

/** True when `header` holds `prefix` at `at` (compared without allocating). */
function startsAt(header: string, at: number, prefix: string): boolean {
  for (let i = 0; i < prefix.length; i++) if (header.charCodeAt(at + i) !== prefix.charCodeAt(i)) return false;
  return true;
}

/** `Bearer gth_…` → the token; undefined otherwise. */
export function bearerApiToken(header: string): string | undefined {
  if (!hasBearerScheme(header)) return undefined;
  let start = 7;
  while (header.charCodeAt(start) === 0x20) start += 1;
  return startsAt(header, start, API_TOKEN_PREFIX) ? header.slice(start) : undefined;
}

/** `Basic ` (any case) at the start of `header`, compared without allocating (JWT requests pass here too). */
function hasBasicScheme(header: string): boolean {
  return header.length > 6
    && (header.charCodeAt(0) | 0x20) === 0x62 // b
    && (header.charCodeAt(1) | 0x20) === 0x61 // a
    && (header.charCodeAt(2) | 0x20) === 0x73 // s
    && (header.charCodeAt(3) | 0x20) === 0x69 // i
    && (header.charCodeAt(4) | 0x20) === 0x63 // c
    && header.charCodeAt(5) === 0x20;
}

/** `Basic base64(user:gth_…)` → the token; undefined for any other Basic credential or scheme. */
export function basicApiToken(header: string): string | undefined {
  if (!hasBasicScheme(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const password = decoded.slice(colon + 1);
  return password.startsWith(API_TOKEN_PREFIX) ? password : undefined;
}

/** The digest the cache is keyed by: the plain token is never kept. */
export const apiTokenDigest = (token: string): string => hash('sha256', token, 'base64url');

const REFUSED = 'The access token is invalid, expired or revoked';

/** 401 invalid_token; for a Basic request with a Basic challenge before the Bearer one. */
function invalidToken(basic: boolean, detail: string): GatehouseError {
  const bearer = bearerChallenge('invalid_token');
  return new GatehouseError('invalid_token', REFUSED, { detail, headers: { 'www-authenticate': basic ? `Basic realm="${BEARER_REALM}", ${bearer}` : bearer } });
}

function unavailable(reason: string): GatehouseError {
  return new GatehouseError('temporarily_unavailable', 'The personal API token cannot be checked now; try again shortly', { detail: `api token exchange unavailable: ${reason}`, headers: { 'retry-after': '5' } });
}

export function apiTokenAuthenticator(cache: ExchangeCache): Authenticator {
  async function exchangeFor(digest: string, token: string, basic: boolean, client: string): Promise<Credential> {
    const result = await cache.exchange(digest, token, client);
    if (result.kind === 'issued') return result.accessToken;
    return result.kind === 'refused' ? invalidToken(basic, `api token refused by the Security Service: ${result.reason}`) : unavailable(result.reason);
  }

  return {
    name: 'api-token',
    credential(exchange: Exchange) {
      const header = exchange.head!.authorization;
      if (header === undefined) return undefined;
      let token = bearerApiToken(header);
      let basic = false;
      if (token === undefined) {
        token = basicApiToken(header);
        if (token === undefined) return undefined;
        basic = true;
      }
      // A wrong length is refused before the digest: nothing longer than a token is hashed.
      if (token.length !== API_TOKEN_LENGTH) return invalidToken(basic, 'api token malformed');
      const digest = apiTokenDigest(token);
      const held = cache.cached(digest, token, exchange.client);
      if (held !== undefined) return held;
      const problem = tokenShapeProblem(token);
      if (problem !== undefined) return invalidToken(basic, `api token ${problem}`);
      if (cache.recentlyRefused(digest)) return invalidToken(basic, 'api token refused recently');
      return exchangeFor(digest, token, basic, exchange.client);
    },
    refused(exchange, accessToken, reason) {
      const header = exchange.head!.authorization ?? '';
      const bearer = bearerApiToken(header);
      const token = bearer ?? basicApiToken(header);
      if (token !== undefined) cache.drop(apiTokenDigest(token), accessToken);
      return invalidToken(bearer === undefined, `api token's access token refused: ${reason}`);
    },
  };
}
