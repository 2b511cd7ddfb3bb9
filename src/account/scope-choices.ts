/**
 * Which permission scopes a user may give a personal API token: the API resources' scopes and the
 * user's own permissions, each kept when it covers at least one of the user's permissions (issue 8:
 * a token's scopes each cover something its owner holds; what it may do is the intersection).
 */
import { can, compilePermissions, type PermissionSet } from '../policy/index.ts';

/** A permission name (`books:read`, `orders:read:own`), no wildcard; OpenID scopes such as `openid` are not. */
const concrete = (permission: string) => permission.includes(':') && !permission.includes('*');
/** `set` grants `permission` outright or for its owner's resources (`…:own`). */
const covers = (set: PermissionSet, permission: string) => concrete(permission) && can(set, permission).reason !== 'not_granted';

export function createScopeChoices(options: { resourceScopes: readonly string[]; roles: Record<string, readonly string[]> }): (user: { roles: readonly string[] }) => string[] {
  return (user) => {
    const owned = [...new Set(user.roles.flatMap((role) => options.roles[role] ?? []))];
    const ownedSet = compilePermissions(owned);
    // `orders:read` is offered to whoever holds `orders:read:own`: the token then reads only their orders.
    const unowned = owned.filter((p) => p.endsWith(':own')).map((p) => p.slice(0, -':own'.length));
    const candidates = [...new Set([...options.resourceScopes, ...owned.filter(concrete), ...unowned.filter(concrete)])];
    return candidates.filter((scope) => covers(ownedSet, scope) || owned.some((p) => covers(compilePermissions([scope]), p))).sort();
  };
}
