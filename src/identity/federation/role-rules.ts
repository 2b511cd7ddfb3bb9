/**
 * Role rules: which Gatehouse roles a provider's claims give (`identityProviders[].roles`).
 * Pure: claims in, role names out. The config schema has already checked every role exists.
 */
import type { RoleRule } from '../../config/index.ts';

/** A dotted path into nested claims (`realm_access.roles`); a top-level member with a dot in its name wins. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function matches(rule: RoleRule, value: unknown): boolean {
  if (rule.equals !== undefined) return value === rule.equals;
  if (Array.isArray(value)) return value.includes(rule.contains);
  // OAuth-style space-separated lists (`scope`, some providers' `groups`).
  return typeof value === 'string' && value.split(' ').includes(rule.contains!);
}

export function rolesFromClaims(rules: readonly RoleRule[], claims: Record<string, unknown>): string[] {
  const roles = new Set<string>();
  for (const rule of rules) if (matches(rule, claimAt(claims, rule.claim))) roles.add(rule.role);
  return [...roles].sort();
}
