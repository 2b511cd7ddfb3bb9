/**
 * The `Identity` a verified token stands for: its claims, typed, and what its roles grant under
 * the published policy. Built once per verified token (the cache hands out the same object).
 */
import { can } from '../../policy/decide.ts';
import { compilePermissions, type PermissionSet } from '../../policy/permissions.ts';
import type { CompiledPolicy } from '../../policy/compile.ts';
import { parseScope } from '../../shared/scope.ts';
import type { Identity } from './types.ts';
import type { AccessClaims } from './token-checks.ts';

const NOTHING = compilePermissions([]);

export function toIdentity(claims: AccessClaims, policy: CompiledPolicy | undefined): Identity {
  // Without a policy (not loaded yet) roles grant nothing: deny by default.
  const granted: PermissionSet = policy ? policy.permissionsFor(claims.roles) : NOTHING;
  const scopes = Object.freeze(parseScope(claims.scope));
  const roles = Object.freeze([...claims.roles]);
  const subject = claims.sub;
  // A client_credentials token: the client is its own subject and there is no session.
  const kind = claims.sid === undefined && claims.sub === claims.client_id ? 'service' : 'user';
  const decide: Identity['decide'] = (permission, context) => can(granted, permission, { subject, ownerId: context?.ownerId });
  return Object.freeze({
    kind,
    subject,
    clientId: claims.client_id,
    sessionId: claims.sid,
    tokenId: claims.jti,
    roles,
    scopes,
    permissions: granted.list,
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    claims: claims.payload,
    hasScope: (scope: string) => scopes.includes(scope),
    hasRole: (role: string) => roles.includes(role),
    can: (permission: string, context?: { ownerId?: string | undefined }) => decide(permission, context).allow,
    decide,
  });
}
