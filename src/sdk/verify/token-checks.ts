/**
 * The checks an access token (RFC 9068) must pass, in the order they cost: size before any
 * parsing, then jose (signature with the key of its `kid`, the pinned algorithms, `typ: at+jwt`,
 * `iss`, `aud`, `exp`/`nbf`/`iat` with the leeway, `iat` not in the future and not older than
 * `maxTokenAge`), then the shape of our claims and a lifetime no longer than `maxTokenAge`.
 */
import { jwtVerify, errors as joseErrors } from 'jose';
import { VerificationError, VerifierUnavailableError } from './types.ts';
import type { RemoteKeySet } from './remote-keys.ts';

export interface AccessTokenRules {
  issuer: string;
  audience: string;
  /** Seconds of leeway on exp/nbf/iat. */
  clockTolerance: number;
  /** Seconds: longest exp − iat and now − iat. */
  maxTokenAge: number;
  maxTokenBytes: number;
}

/** The claims every Gatehouse access token carries, typed after the checks. */
export interface AccessClaims {
  sub: string;
  client_id: string;
  jti: string;
  iat: number;
  exp: number;
  roles: string[];
  scope: string | undefined;
  sid: string | undefined;
  payload: Readonly<Record<string, unknown>>;
}

const REQUIRED = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'client_id'];

export async function checkAccessToken(token: string, keys: RemoteKeySet, rules: AccessTokenRules, nowMs: number): Promise<AccessClaims> {
  if (typeof token !== 'string' || token.length === 0) throw new VerificationError('empty token');
  if (token.length > rules.maxTokenBytes) throw new VerificationError(`token longer than ${rules.maxTokenBytes} bytes`);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keys.getKey, {
      issuer: rules.issuer,
      audience: rules.audience,
      typ: 'at+jwt',
      algorithms: keys.algorithms(),
      currentDate: new Date(nowMs),
      clockTolerance: rules.clockTolerance,
      // Without these jose accepts a future iat or a century-long exp.
      maxTokenAge: rules.maxTokenAge,
      requiredClaims: REQUIRED,
    }));
  } catch (error) {
    if (error instanceof VerificationError || error instanceof VerifierUnavailableError) throw error;
    if (error instanceof joseErrors.JOSEError) throw new VerificationError(`${error.code}: ${error.message}`);
    throw new VerificationError(`unreadable token: ${(error as Error).message}`);
  }
  return claimsOf(payload, rules.maxTokenAge);
}

/** Shape checks jose does not do: the types of our claims, and the lifetime. */
function claimsOf(payload: Record<string, unknown>, maxTokenAge: number): AccessClaims {
  const { sub, client_id, jti, scope, sid, roles, iat, exp } = payload;
  const strings = [sub, client_id, jti].every((value) => typeof value === 'string' && value.length > 0);
  const rolesOk = roles === undefined || (Array.isArray(roles) && roles.every((role) => typeof role === 'string'));
  const optionalOk = (scope === undefined || typeof scope === 'string') && (sid === undefined || typeof sid === 'string');
  if (!strings || !rolesOk || !optionalOk) throw new VerificationError('claims have unexpected types');
  if ((exp as number) - (iat as number) > maxTokenAge) throw new VerificationError('token lifetime exceeds maxTokenAge');
  return {
    sub: sub as string,
    client_id: client_id as string,
    jti: jti as string,
    iat: iat as number,
    exp: exp as number,
    roles: (roles as string[] | undefined) ?? [],
    scope: scope as string | undefined,
    sid: sid as string | undefined,
    payload: Object.freeze(payload),
  };
}
