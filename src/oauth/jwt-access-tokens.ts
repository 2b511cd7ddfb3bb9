/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of our JWT access tokens, which
 * oidc-provider refuses (`unsupported_token_type`: it never stores them). A token is active when
 * its signature verifies against our published keys, it is unexpired, it was not revoked, and —
 * for a user's token — the grant it was issued under still exists.
 */
import { createLocalJWKSet, jwtVerify, errors as joseErrors, type JWTPayload, type JWK } from 'jose';
import type { Store } from '../store/index.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import type { KeySource } from './types.ts';
import type { Revoker } from './revocation.ts';

/** Who asks: a client sees its own tokens; one registered with `tokens:introspect` sees any. */
export interface IntrospectionCaller {
  clientId: string;
  anyClient: boolean;
}

export interface JwtAccessTokens {
  /** RFC 7662 answer; `{ active: false }` for a token the caller may not see (nothing leaks). */
  introspect(token: string, caller: IntrospectionCaller): Promise<Record<string, unknown>>;
  /** Revokes the token if it verifies and belongs to `clientId`; anything else is silently ignored (RFC 7009 §2.2). */
  revoke(token: string, clientId: string): Promise<void>;
  /** Forget cached keys (after a rotation). */
  reloadKeys(): void;
}

interface AccessTokenPayload extends JWTPayload {
  jti: string;
  sub: string;
  client_id: string;
  exp: number;
  sid?: string;
}

export function createJwtAccessTokens(deps: { keys: KeySource; issuer: string; store: Store; revoker: Revoker; clock: Clock }): JwtAccessTokens {
  const { keys, issuer, store, revoker, clock } = deps;
  let keySet: Promise<ReturnType<typeof createLocalJWKSet>> | undefined;

  const loadKeySet = () => {
    keySet ??= keys.publicJwks().then((jwks) => createLocalJWKSet({ keys: jwks.keys as JWK[] }));
    keySet.catch(() => { keySet = undefined; });
    return keySet;
  };

  async function verify(token: string, options: { allowExpired: boolean }): Promise<AccessTokenPayload | undefined> {
    try {
      const { payload } = await jwtVerify(token, await loadKeySet(), {
        issuer,
        typ: 'at+jwt',
        requiredClaims: ['jti', 'sub', 'client_id', 'exp', 'iat'],
        currentDate: new Date(clock.now()),
        ...(options.allowExpired ? { clockTolerance: Number.MAX_SAFE_INTEGER } : {}),
      });
      return payload as AccessTokenPayload;
    } catch (error) {
      if (error instanceof joseErrors.JOSEError) return undefined;
      throw error;
    }
  }

  async function grantExists(grantId: string): Promise<boolean> {
    const row = await store.db
      .selectFrom('oidc_models')
      .select('expires_at')
      .where('model', '=', 'Grant')
      .where('id', '=', grantId)
      .executeTakeFirst();
    return row !== undefined && (row.expires_at === null || Number(row.expires_at) > epochSeconds(clock));
  }

  return {
    async introspect(token, caller) {
      const payload = await verify(token, { allowExpired: false });
      if (!payload) return { active: false };
      if (!caller.anyClient && payload.client_id !== caller.clientId) return { active: false };
      const record = await revoker.issuedToken(payload.jti);
      if (record?.revokedAt !== null && record?.revokedAt !== undefined) return { active: false };
      if (record?.grantId && !(await grantExists(record.grantId))) return { active: false };
      return { ...payload, active: true, token_type: 'Bearer' };
    },

    async revoke(token, clientId) {
      const payload = await verify(token, { allowExpired: true });
      if (!payload || payload.client_id !== clientId || payload.exp <= epochSeconds(clock)) return;
      const record = await revoker.issuedToken(payload.jti);
      if (record?.revokedAt) return;
      await revoker.revokeAccessToken(
        {
          jti: payload.jti,
          grantId: record?.grantId ?? null,
          subject: payload.sub,
          sessionId: payload.sid ?? null,
          clientId: payload.client_id,
          expiresAt: payload.exp,
        },
        'revoked_by_client',
        `client:${clientId}`,
      );
    },

    reloadKeys() {
      keySet = undefined;
    },
  };
}
