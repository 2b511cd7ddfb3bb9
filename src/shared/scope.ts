/**
 * OAuth scope strings (RFC 6749 §3.3): space-delimited, case-sensitive scope tokens. The one
 * parser of them — clients' registered scopes, tokens' `scope` claims, API scope checks.
 */

/** The scope tokens of `scope`, in order, without empty entries (runs of spaces are tolerated). */
export function parseScope(scope: string | undefined): string[] {
  return scope === undefined ? [] : scope.split(' ').filter((token) => token !== '');
}

/** True when `scope` contains the token `wanted` (exactly: `admin` is not in `admin:read`). */
export function scopeIncludes(scope: string | undefined, wanted: string): boolean {
  return parseScope(scope).includes(wanted);
}

/** The canonical string of `scopes`: each token once, in first-seen order, single spaces. */
export function formatScope(scopes: Iterable<string>): string {
  return [...new Set([...scopes].filter((token) => token !== ''))].join(' ');
}
