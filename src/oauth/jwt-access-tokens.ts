/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of our JWT access tokens, which
 * oidc-provider refuses (`unsupported_token_type`: it never stores them). A token is active when
 * its signature verifies against our published keys, it is unexpired, it was not revoked, and —
 * for a user's token — the grant it was issued under still exists. Verification is the tokens
 * component's (`AccessTokenVerifier.inspect`): the same checks, lifetime and age included, as
 * every protected API applies.
 */
import type { Store } from '../store/index.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { epochSeconds, type Clock } from '../shared/clock.ts';
import type { AccessTokenClaims, AccessTokenVerifier } from '../tokens/index.ts';
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
}

export function createJwtAccessTokens(deps: { verifier: Pick<AccessTokenVerifier, 'inspect'>; store: Store; revoker: Revoker; clock: Clock }): JwtAccessTokens {
  const { verifier, store, revoker, clock } = deps;

  /** The verified token, or undefined for anything that is not a valid, unexpired token of ours. */
  async function verify(token: string): Promise<{ claims: AccessTokenClaims; payload: Record<string, unknown> } | undefined> {
    let verified: { claims: AccessTokenClaims; payload: Record<string, unknown> };
    try {
      verified = await verifier.inspect(token);
    } catch (error) {
      if (isGatehouseError(error) && error.code === 'invalid_token') return undefined;
      throw error;
    }
    // The verifier tolerates clock skew at the edges; introspection and revocation say "expired" at exp exactly.
    return verified.claims.exp > epochSeconds(clock) ? verified : undefined;
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
      const verified = await verify(token);
      if (!verified) return { active: false };
      const { claims, payload } = verified;
      if (!caller.anyClient && claims.client_id !== caller.clientId) return { active: false };
      const record = await revoker.issuedToken(claims.jti);
      if (record?.revokedAt !== null && record?.revokedAt !== undefined) return { active: false };
      if (record?.grantId && !(await grantExists(record.grantId))) return { active: false };
      return { ...payload, active: true, token_type: 'Bearer' };
    },

    async revoke(token, clientId) {
      // An expired token needs no revocation; an invalid one is ignored (RFC 7009 §2.2).
      const claims = (await verify(token))?.claims;
      if (!claims || claims.client_id !== clientId) return;
      const record = await revoker.issuedToken(claims.jti);
      if (record?.revokedAt) return;
      await revoker.revokeAccessToken(
        {
          jti: claims.jti,
          grantId: record?.grantId ?? null,
          subject: claims.sub,
          sessionId: claims.sid ?? null,
          clientId: claims.client_id,
          expiresAt: claims.exp,
        },
        'revoked_by_client',
        `client:${clientId}`,
      );
    },
  };
}
