/**
 * Who may call the admin API: a valid access token for the issuer audience that carries the
 * `admin` scope AND the `admin` role, that was not revoked, and whose subject is still allowed
 * in — an active user who holds the `admin` role NOW (or, for a client_credentials token, a
 * client that still exists and is still registered with the `admin` role).
 *
 * The signature alone is not enough here: a disabled admin, or one whose password was changed,
 * would keep a 10-minute token. So each call costs one indexed read of `issued_tokens` and one
 * of the subject, which an admin API can afford. Every refusal is audited as `admin.denied`; an
 * audit write that fails (e.g. during a database outage) is logged and never hides the answer.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireAccessToken, bearerError, hasScope, type AccessTokenClaims, type AccessTokenVerifier } from '../tokens/index.ts';
import { isGatehouseError } from '../shared/errors.ts';
import { toPublicError } from '../shared/http.ts';
import type { AuditLog } from '../events/audit.ts';
import type { AdminServices } from './routes.ts';

export const ADMIN_ROLE = 'admin';
export const ADMIN_SCOPE = 'admin';

export interface AdminAuthDeps {
  verifier: AccessTokenVerifier;
  audience: string;
  audit: AuditLog;
  users: AdminServices['users'];
  clients: AdminServices['clients'];
  /** True when the token with this `jti` was revoked before it expired. */
  isTokenRevoked(jti: string): Promise<boolean>;
}

/**
 * Who made an admin call, as the audit log names it: `client:<id>` for a client_credentials
 * token (its subject is the client itself), `user:<id>` for a user's token.
 */
export function actorOf(claims: Pick<AccessTokenClaims, 'sub' | 'client_id'>): string {
  return isServiceToken(claims) ? `client:${claims.client_id}` : `user:${claims.sub}`;
}

/** client_credentials tokens name the client as their subject; user ids are UUIDs, which client ids may not be. */
function isServiceToken(claims: Pick<AccessTokenClaims, 'sub' | 'client_id'>): boolean {
  return claims.sub === claims.client_id;
}

function checkGrants(claims: AccessTokenClaims): void {
  if (!hasScope(claims, ADMIN_SCOPE)) {
    throw bearerError('insufficient_scope', `The access token lacks the scope ${ADMIN_SCOPE}`, `scope: ${claims.scope ?? ''}`, ADMIN_SCOPE);
  }
  if (!claims.roles.includes(ADMIN_ROLE)) {
    throw bearerError('insufficient_scope', 'The admin role is required', `roles: ${claims.roles.join(' ')}`, ADMIN_SCOPE);
  }
}

const revoked = (detail: string) => bearerError('invalid_token', 'The access token is invalid or expired', detail);
const noLongerAdmin = (detail: string) => bearerError('insufficient_scope', 'The admin role is required', detail, ADMIN_SCOPE);

/** An onRequest hook: authenticates and authorizes the caller, or audits and throws. */
export function adminAuthenticator(deps: AdminAuthDeps) {
  const verify = requireAccessToken({ verifier: deps.verifier, audience: deps.audience });

  async function stillValid(claims: AccessTokenClaims): Promise<void> {
    if (await deps.isTokenRevoked(claims.jti)) throw revoked(`token ${claims.jti} was revoked`);
    if (isServiceToken(claims)) {
      let client;
      try {
        client = await deps.clients.find(claims.client_id);
      } catch (error) {
        if (isGatehouseError(error) && error.code === 'not_found') throw revoked(`client ${claims.client_id} is gone`);
        throw error;
      }
      if (!client.roles.includes(ADMIN_ROLE)) throw noLongerAdmin(`client ${claims.client_id} no longer holds the admin role`);
      return;
    }
    const user = await deps.users.findById(claims.sub);
    if (!user || user.status !== 'active') throw revoked(`user ${claims.sub} is ${user ? user.status : 'gone'}`);
    // The token's `roles` claim is a snapshot from issuance: a demoted admin is refused at once.
    if (!user.roles.includes(ADMIN_ROLE)) throw noLongerAdmin(`user ${claims.sub} no longer holds the admin role`);
  }

  return async function authenticateAdmin(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    try {
      await verify.call(this, request, reply);
      // Checked after `request.accessToken` is set, so a refusal is audited with its caller.
      checkGrants(request.accessToken!);
      await stillValid(request.accessToken!);
    } catch (error) {
      const caller = request.accessToken;
      // The route fastify matched, never the raw URL (which may spell it `/admin/%61pi/users`);
      // the path as sent goes in `data` for the resource it named.
      const route = `${request.method} ${request.routeOptions.url}`;
      const path = request.url.split('?')[0]!.slice(0, 300);
      try {
        await deps.audit.record({ event: 'admin.denied', actor: caller ? actorOf(caller) : `ip:${request.ip}`, subject: route, clientId: request.accessToken?.client_id ?? null, ip: request.ip, reason: toPublicError(error).code, data: { path } });
      } catch (auditError) {
        request.log.warn({ err: auditError }, 'auditing admin.denied failed');
      }
      throw error;
    }
  };
}
