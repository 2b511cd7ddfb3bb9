/**
 * Local verification of our JWT access tokens (RFC 9068) against the published signing keys.
 *
 * Imported keys are cached by kid. The cache is refreshed when the key set's version changes
 * (checked at most every `checkInterval`) or when a token names an unknown kid (at most once per
 * `unknownKidInterval`, so garbage kids cannot turn into a query per request). Because the next
 * key is published before it signs, a rotation normally needs no refresh at all.
 *
 * The one verification path of our access tokens: protected APIs call `verify` (with their
 * audience); the issuer's own introspection and revocation endpoints call `inspect`, which applies
 * every other check — signature, issuer, `typ`, required claims, lifetime and age — for any audience.
 */
import { jwtVerify, importJWK, errors as joseErrors, type JWK, type CryptoKey, type JWTHeaderParameters } from 'jose';
import type { KeyService } from './keys.ts';
import type { Clock } from '../shared/clock.ts';
import { scopeIncludes } from '../shared/scope.ts';
import { bearerError } from './bearer.ts';

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  client_id: string;
  scope?: string;
  roles: string[];
  sid?: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface AccessTokenVerifier {
  verify(token: string, options: { audience: string }): Promise<AccessTokenClaims>;
  /**
   * Every check of `verify` but the audience: for the issuer's introspection and revocation
   * endpoints, which answer about tokens of any resource. `payload` holds every claim as signed.
   */
  inspect(token: string): Promise<{ claims: AccessTokenClaims; payload: Record<string, unknown> }>;
}

export interface AccessTokenVerifierDeps {
  keys: Pick<KeyService, 'version' | 'publicJwks'>;
  issuer: string;
  clock: Clock;
  /** Longest accepted lifetime (exp − iat) and age (now − iat), seconds. Default 1 h. */
  maxTokenAge?: number;
  /** Clock skew tolerated on exp/iat, seconds. Default 30. */
  clockTolerance?: number;
  /** Milliseconds between checks of the key set version. Default 10 s. */
  checkInterval?: number;
  /** Milliseconds between refreshes caused by unknown kids. Default 1 s. */
  unknownKidInterval?: number;
}

const ALGORITHMS = ['ES256', 'RS256', 'EdDSA'];
/** Safe to send: the public description never says which check failed. */
const INVALID = 'The access token is invalid or expired';

interface KeyCache {
  version: string;
  keys: Map<string, { alg: string; key: CryptoKey }>;
  checkedAt: number;
}

export function createAccessTokenVerifier(deps: AccessTokenVerifierDeps): AccessTokenVerifier {
  const { keys, issuer, clock } = deps;
  const maxTokenAge = deps.maxTokenAge ?? 3600;
  const clockTolerance = deps.clockTolerance ?? 30;
  const checkInterval = deps.checkInterval ?? 10_000;
  const unknownKidInterval = deps.unknownKidInterval ?? 1000;
  let cache: KeyCache | undefined;
  let loading: Promise<KeyCache> | undefined;
  let lastUnknownRefresh = 0;

  async function load(): Promise<KeyCache> {
    const version = await keys.version();
    if (cache && cache.version === version) {
      cache.checkedAt = performance.now();
      return cache;
    }
    const jwks = await keys.publicJwks();
    const imported = new Map<string, { alg: string; key: CryptoKey }>();
    for (const jwk of jwks.keys as JWK[]) {
      if (typeof jwk.kid !== 'string' || typeof jwk.alg !== 'string') continue;
      imported.set(jwk.kid, { alg: jwk.alg, key: (await importJWK(jwk, jwk.alg)) as CryptoKey });
    }
    cache = { version, keys: imported, checkedAt: performance.now() };
    return cache;
  }

  /** One load at a time; concurrent callers share it. Wall-clock intervals: this is about load, not validity. */
  function refresh(): Promise<KeyCache> {
    loading ??= load().finally(() => { loading = undefined; });
    return loading;
  }

  async function keyFor(header: JWTHeaderParameters): Promise<CryptoKey> {
    let current = cache && performance.now() - cache.checkedAt < checkInterval ? cache : await refresh();
    const kid = header.kid;
    if (typeof kid !== 'string') throw bearerError('invalid_token', INVALID, 'token header has no kid');
    let entry = current.keys.get(kid);
    if (!entry && performance.now() - lastUnknownRefresh >= unknownKidInterval) {
      lastUnknownRefresh = performance.now();
      current.checkedAt = 0;
      current = await refresh();
      entry = current.keys.get(kid);
    }
    if (!entry) throw bearerError('invalid_token', INVALID, `unknown kid ${kid.slice(0, 64)}`);
    if (entry.alg !== header.alg) throw bearerError('invalid_token', INVALID, `alg ${String(header.alg)} does not match key ${kid}`);
    return entry.key;
  }

  /** Signature, issuer, typ, required claims, lifetime and age; the audience when one is given. */
  async function check(token: string, audience: string | undefined): Promise<Record<string, unknown>> {
    try {
      const { payload } = await jwtVerify(token, keyFor, {
        issuer,
        ...(audience === undefined ? {} : { audience }),
        typ: 'at+jwt',
        algorithms: ALGORITHMS,
        currentDate: new Date(clock.now()),
        clockTolerance,
        // Without these jose accepts a future iat or a century-long exp (STACK-NOTES).
        maxTokenAge,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'],
      });
      return payload;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) {
        throw bearerError('invalid_token', INVALID, `${error.code}: ${error.message}`);
      }
      throw error;
    }
  }

  return {
    async verify(token, options) {
      return toClaims(await check(token, options.audience), maxTokenAge);
    },
    async inspect(token) {
      const payload = await check(token, undefined);
      return { claims: toClaims(payload, maxTokenAge), payload };
    },
  };
}

/** Shape checks jose does not do: types of our claims, and a lifetime no longer than allowed. */
function toClaims(payload: Record<string, unknown>, maxTokenAge: number): AccessTokenClaims {
  const { sub, client_id, jti, scope, sid, roles, iat, exp } = payload;
  const strings = [sub, client_id, jti].every((value) => typeof value === 'string' && value.length > 0);
  const rolesOk = roles === undefined || (Array.isArray(roles) && roles.every((role) => typeof role === 'string'));
  const optionalOk = (scope === undefined || typeof scope === 'string') && (sid === undefined || typeof sid === 'string');
  if (!strings || !rolesOk || !optionalOk) throw bearerError('invalid_token', INVALID, 'claims have unexpected types');
  if ((exp as number) - (iat as number) > maxTokenAge) throw bearerError('invalid_token', INVALID, 'token lifetime exceeds maxTokenAge');
  const claims: AccessTokenClaims = {
    iss: payload.iss as string,
    sub: sub as string,
    aud: payload.aud as string | string[],
    client_id: client_id as string,
    roles: (roles as string[] | undefined) ?? [],
    jti: jti as string,
    iat: iat as number,
    exp: exp as number,
  };
  if (scope !== undefined) claims.scope = scope as string;
  if (sid !== undefined) claims.sid = sid as string;
  return claims;
}

/** True when the space-separated `scope` claim contains `wanted`. */
export function hasScope(claims: Pick<AccessTokenClaims, 'scope'>, wanted: string): boolean {
  return scopeIncludes(claims.scope, wanted);
}
