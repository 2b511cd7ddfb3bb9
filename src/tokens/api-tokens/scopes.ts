/**
 * Scopes of a personal API token are permission names (`orders:read`, `orders:*`, `orders:read:own`).
 * A token may only be made with scopes that grant something: each must overlap at least one of the
 * owner's current permissions — some concrete permission is covered by both. What a token may
 * finally do is decided per request as `can(owner's roles) && can(scopes)` (the gateway and SDK,
 * shared contract 1), so a scope never grants more than its owner holds.
 *
 * Overlap follows the permission grammar (src/policy/permissions.ts): a trailing `*` covers one or
 * more segments, a `*` in the middle exactly one; and `x` implies `x:own` (src/policy/decide.ts).
 * The policy component is not imported here (tokens may not import it): this works on the owner's
 * permission names, which the composition root computes with the compiled policy.
 */

/** The permission grammar of the config schema (src/config/fields.ts `permission`). */
export const SCOPE_PATTERN = /^(\*|[a-z][a-z0-9_-]*(:(\*|[a-z][a-z0-9_-]*))*)$/;

/** Whether some concrete permission matches both patterns (segment lists). */
function patternsOverlap(a: readonly string[], b: readonly string[], i = 0, j = 0): boolean {
  const aRest = i === a.length - 1 && a[i] === '*';
  const bRest = j === b.length - 1 && b[j] === '*';
  // A trailing `*` takes one or more segments: whatever remains of the other (at least one) fits.
  if (aRest) return j < b.length;
  if (bRest) return i < a.length;
  if (i === a.length || j === b.length) return i === a.length && j === b.length;
  const compatible = a[i] === b[j] || a[i] === '*' || b[j] === '*';
  return compatible && patternsOverlap(a, b, i + 1, j + 1);
}

/**
 * True when scope and permission grant a common concrete permission, counting `x` ⇒ `x:own`:
 * scope `orders:read` overlaps a customer's `orders:read:own`, and scope `orders:read:own` a
 * member of staff's `orders:read`.
 */
export function scopeOverlaps(scope: string, permission: string): boolean {
  const s = scope.split(':');
  const p = permission.split(':');
  return patternsOverlap(s, p) || patternsOverlap([...s, 'own'], p) || patternsOverlap(s, [...p, 'own']);
}

/** The scopes among `scopes` that overlap none of `permissions` (empty: all are fine). */
export function scopesNotHeld(scopes: readonly string[], permissions: readonly string[]): string[] {
  return scopes.filter((scope) => !permissions.some((permission) => scopeOverlaps(scope, permission)));
}
