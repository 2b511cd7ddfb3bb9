/**
 * The `Identity` a verified token stands for: its claims, typed, and what its roles grant under
 * the published policy. Built once per verified token (the cache hands out the same object), so
 * everything a decision needs is compiled here and a decision costs two trie lookups at most.
 *
 * Scope-bound tokens (`"scope_bound": true`: exchanged from a personal API token, or issued to a
 * third-party app) may do only what their scopes cover: each scope is a permission name
 * (`orders:read`, `orders:*`), and a decision must be allowed by the roles AND by the scopes,
 * with the same `can()` semantics for both (`orders:read` covers `orders:read:own`).
 */
import { can, type Decision, type DecisionContext } from '../../policy/decide.ts';
import { compilePermissions, type PermissionSet } from '../../policy/permissions.ts';
import type { CompiledPolicy } from '../../policy/compile.ts';
import { parseScope } from '../../shared/scope.ts';
import type { Identity } from './types.ts';
import type { AccessClaims } from './token-checks.ts';

const NOTHING = compilePermissions([]);
const OWN = ':own';
/** OpenID Connect's scopes name claims, never permissions (a `*` role would "cover" them otherwise). */
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'address', 'phone', 'offline_access']);

/** `permission` (a concrete name or a pattern with `*`) is covered by `set`; `x` covers `x:own`. */
function covers(set: PermissionSet, permission: string): boolean {
  if (set.covering(permission) !== undefined) return true;
  return permission.endsWith(OWN) && set.covering(permission.slice(0, -OWN.length)) !== undefined;
}

/**
 * The permissions both sets allow, as names: every role permission the scopes cover, and every
 * scope the roles cover (`orders:read:own` from role `orders:read:own` ∩ scope `orders:read`;
 * `orders:read` from role `*` ∩ scope `orders:read`). Sorted, deduplicated.
 */
function intersect(roles: PermissionSet, scopes: PermissionSet): readonly string[] {
  const both = new Set<string>();
  for (const permission of roles.list) if (covers(scopes, permission)) both.add(permission);
  for (const permission of scopes.list) if (covers(roles, permission)) both.add(permission);
  return Object.freeze([...both].sort());
}

type Decide = (permission: string, context?: { ownerId?: string | undefined }) => Decision;

/** Roles alone, or roles AND scopes: the roles' refusal (or grant) wins, the scopes can only take away. */
function decider(granted: PermissionSet, bound: PermissionSet | undefined, subject: string): Decide {
  if (bound === undefined) return (permission, context) => can(granted, permission, { subject, ownerId: context?.ownerId });
  return (permission, context) => {
    const ctx: DecisionContext = { subject, ownerId: context?.ownerId };
    const byRoles = can(granted, permission, ctx);
    if (!byRoles.allow) return byRoles;
    const byScopes = can(bound, permission, ctx);
    return byScopes.allow ? byRoles : byScopes;
  };
}

export function toIdentity(claims: AccessClaims, policy: CompiledPolicy | undefined): Identity {
  // Without a policy (not loaded yet) roles grant nothing: deny by default.
  const granted: PermissionSet = policy ? policy.permissionsFor(claims.roles) : NOTHING;
  const scopes = Object.freeze(parseScope(claims.scope));
  const roles = Object.freeze([...claims.roles]);
  const subject = claims.sub;
  const scopeBound = claims.payload.scope_bound === true;
  const bound = scopeBound ? compilePermissions(scopes.filter((scope) => !OIDC_SCOPES.has(scope))) : undefined;
  // A client_credentials token: the client is its own subject and there is no session.
  const kind = claims.sid === undefined && claims.sub === claims.client_id ? 'service' : 'user';
  const decide = decider(granted, bound, subject);
  return Object.freeze({
    kind,
    subject,
    clientId: claims.client_id,
    sessionId: claims.sid,
    tokenId: claims.jti,
    roles,
    scopes,
    scopeBound,
    permissions: bound === undefined ? granted.list : intersect(granted, bound),
    issuedAt: claims.iat,
    expiresAt: claims.exp,
    claims: claims.payload,
    hasScope: (scope: string) => scopes.includes(scope),
    hasRole: (role: string) => roles.includes(role),
    can: (permission: string, context?: { ownerId?: string | undefined }) => decide(permission, context).allow,
    decide,
  });
}
