/**
 * Authorization decisions as values: `can()` never throws for a denial, only for misuse.
 *
 * `:own` semantics: a permission ending in `:own` is the same action restricted to resources the
 * caller owns. `orders:read` implies `orders:read:own`. A caller holding only `orders:read:own`
 * may `orders:read` a resource when `context.ownerId === context.subject`.
 * Asking for `orders:read:own` is the same as asking for `orders:read` with an ownership context.
 */
import type { PermissionSet } from './permissions.ts';

export interface DecisionContext {
  /** Who is asking (the token's `sub`). */
  subject?: string | undefined;
  /** Who owns the resource in question. */
  ownerId?: string | undefined;
}

export type DecisionReason =
  /** A granted permission covers the action unconditionally. */
  | 'granted'
  /** A granted `…:own` permission covers it and the caller owns the resource. */
  | 'granted_owner'
  /** Only an `…:own` permission covers it, and ownership is missing or does not match. */
  | 'not_owner'
  /** Nothing granted covers the action. */
  | 'not_granted';

export interface Decision {
  allow: boolean;
  reason: DecisionReason;
  /** The granted permission that decided it, if one did. */
  permission?: string;
}

const OWN = ':own';

export function can(granted: PermissionSet, required: string, context?: DecisionContext): Decision {
  if (required.length === 0 || required.includes('*')) {
    throw new TypeError(`can(): expected a concrete permission like orders:read, received ${JSON.stringify(required)}`);
  }
  const action = required.endsWith(OWN) ? required.slice(0, -OWN.length) : required;
  const unconditional = granted.covering(action);
  if (unconditional !== undefined) return { allow: true, reason: 'granted', permission: unconditional };
  const ownOnly = granted.covering(action + OWN);
  if (ownOnly === undefined) return { allow: false, reason: 'not_granted' };
  const owns = context?.subject !== undefined && context.ownerId !== undefined && context.ownerId === context.subject;
  return owns ? { allow: true, reason: 'granted_owner', permission: ownOnly } : { allow: false, reason: 'not_owner', permission: ownOnly };
}
