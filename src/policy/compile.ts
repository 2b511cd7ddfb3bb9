/**
 * The role → permissions policy, compiled once from config (or from a fetched policy document)
 * into per-role permission tries and a content-hashed version the gateway and SDK cache by.
 */
import { compilePermissions, type PermissionSet } from './permissions.ts';
import { can, type Decision, type DecisionContext } from './decide.ts';

/** What GET /policy serves and what the gateway and SDK fetch. */
export interface PolicyDocument {
  /** Content hash of `roles`: equal documents have equal versions. */
  version: string;
  roles: Record<string, string[]>;
}

export interface CompiledPolicy {
  version: string;
  /** Strong entity tag of the document: `"<version>"`. */
  etag: string;
  document: PolicyDocument;
  /** Union of the permissions of `roles`; unknown roles grant nothing. */
  permissionsFor(roles: readonly string[]): PermissionSet;
  /** Shorthand for `can(permissionsFor(roles), required, context)`. */
  decide(roles: readonly string[], required: string, context?: DecisionContext): Decision;
}

/** FNV-1a, 64 bit: a stable content hash without importing crypto (policy/ stays pure). */
function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * prime) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

/** Sorted roles and sorted, deduplicated permissions: the canonical form that is hashed. */
function canonical(roles: Record<string, readonly string[]>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const name of Object.keys(roles).sort()) result[name] = [...new Set(roles[name])].sort();
  return result;
}

const MAX_CACHED_COMBINATIONS = 1024;

export function compilePolicy(roles: Record<string, readonly string[]>): CompiledPolicy {
  const normalized = canonical(roles);
  const version = fnv1a64(JSON.stringify(normalized));
  const perRole = new Map<string, readonly string[]>(Object.entries(normalized));
  // Role combinations are few (they come from tokens): cache their compiled union.
  const cache = new Map<string, PermissionSet>();

  const permissionsFor = (granted: readonly string[]): PermissionSet => {
    const key = [...granted].sort().join(' ');
    let set = cache.get(key);
    if (set === undefined) {
      set = compilePermissions(granted.flatMap((role) => perRole.get(role) ?? []));
      if (cache.size >= MAX_CACHED_COMBINATIONS) cache.clear();
      cache.set(key, set);
    }
    return set;
  };

  return {
    version,
    etag: `"${version}"`,
    document: { version, roles: normalized },
    permissionsFor,
    decide: (granted, required, context) => can(permissionsFor(granted), required, context),
  };
}
