/**
 * Permissions compiled into a segment trie, so a check walks the permission's segments once
 * instead of scanning every granted string.
 *
 * Grammar (validated by the config schema): segments separated by `:`.
 * - `*` as the LAST segment matches one or more remaining segments: `orders:*` covers
 *   `orders:read` and `orders:read:own`; `*` alone covers everything.
 * - `*` in the middle matches exactly one segment: `orders:*:own` covers `orders:read:own`.
 * - a trailing `own` segment is a condition, see ./decide.ts.
 */

interface TrieNode {
  children: Map<string, TrieNode>;
  /** A `*` segment here that is followed by more segments. */
  anyOne: TrieNode | undefined;
  /** A grant ends exactly here. */
  end: string | undefined;
  /** A trailing `*` here: covers one or more further segments. */
  rest: string | undefined;
}

/** A compiled set of granted permissions. Build with `compilePermissions`; check with `can`. */
export interface PermissionSet {
  /** The granted permissions, deduplicated and sorted. */
  readonly list: readonly string[];
  /** The granted permission that covers `permission` (a concrete one, no `*`), if any. */
  covering(permission: string): string | undefined;
}

function node(): TrieNode {
  return { children: new Map(), anyOne: undefined, end: undefined, rest: undefined };
}

function insert(root: TrieNode, permission: string): void {
  const segments = permission.split(':');
  let current = root;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '*' && last) {
      current.rest ??= permission;
      return;
    }
    let next: TrieNode | undefined;
    if (segment === '*') {
      next = current.anyOne ??= node();
    } else {
      next = current.children.get(segment);
      if (!next) {
        next = node();
        current.children.set(segment, next);
      }
    }
    current = next;
  }
  current.end ??= permission;
}

function lookup(current: TrieNode, segments: readonly string[], index: number): string | undefined {
  if (index === segments.length) return current.end;
  // A trailing `*` covers whatever follows (at least one segment remains here).
  if (current.rest !== undefined) return current.rest;
  const segment = segments[index]!;
  const exact = current.children.get(segment);
  const viaExact = exact ? lookup(exact, segments, index + 1) : undefined;
  if (viaExact !== undefined) return viaExact;
  return current.anyOne ? lookup(current.anyOne, segments, index + 1) : undefined;
}

/** Answers kept per set: the permissions a gateway or service asks about are few (route rules, code). */
const MAX_REMEMBERED = 256;
const NOT_COVERED = '';

export function compilePermissions(permissions: Iterable<string>): PermissionSet {
  const list = [...new Set(permissions)].sort();
  const root = node();
  for (const permission of list) insert(root, permission);
  // The same few permissions are asked about on every request: split and walk once each.
  const remembered = new Map<string, string>();
  return {
    list,
    covering(permission) {
      let found = remembered.get(permission);
      if (found === undefined) {
        found = lookup(root, permission.split(':'), 0) ?? NOT_COVERED;
        if (remembered.size >= MAX_REMEMBERED) remembered.clear();
        remembered.set(permission, found);
      }
      return found === NOT_COVERED ? undefined : found;
    },
  };
}
