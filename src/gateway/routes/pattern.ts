/**
 * Path patterns (docs/gateway.md "Routes"): literal segments, `:name` for one segment, `**` for
 * one or more segments at the end. Parsed once at load; the matcher walks the parsed form.
 */

export type PatternSegment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'rest' };

/**
 * Paths the gateway serves itself. A route cannot claim them with a literal first segment
 * (`/login`, `/metrics/**`); a catch-all like `/**` or `/:page` simply never sees them.
 */
export const RESERVED_PATHS: readonly string[] = ['/login', '/login/callback', '/logout', '/healthz', '/readyz', '/metrics'];

/** The schema already checked the characters; this checks what one regular expression cannot. */
export function parsePattern(path: string): { segments: PatternSegment[]; problems: string[] } {
  const problems: string[] = [];
  if (path === '/') return { segments: [], problems };
  const parts = path.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const names = new Set<string>();
  parts.forEach((part, index) => {
    if (part === '') problems.push('empty segment (//) in the pattern: no request path has one');
    else if (part === '.' || part === '..') problems.push(`segment "${part}" can never match (dot segments are refused before routing)`);
    else if (part === '**') {
      if (index !== parts.length - 1) problems.push('`**` must be the last segment');
      segments.push({ kind: 'rest' });
    } else if (part.startsWith(':')) {
      const name = part.slice(1);
      if (name === '__proto__') problems.push('parameter name :__proto__ is reserved');
      else if (names.has(name)) problems.push(`parameter :${name} appears twice`);
      names.add(name);
      segments.push({ kind: 'param', name });
    } else segments.push({ kind: 'literal', value: part });
  });
  return { segments, problems };
}

/** `/api/users/:/orders`: the pattern with parameter names erased — two routes of one shape match the same paths. */
export function patternShape(segments: readonly PatternSegment[]): string {
  return `/${segments.map((s) => (s.kind === 'literal' ? s.value : s.kind === 'param' ? ':' : '**')).join('/')}`;
}

/** Slow, for load-time checks and `explain`: does the pattern match these decoded segments? */
export function patternMatches(pattern: readonly PatternSegment[], segments: readonly string[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i]!;
    if (part.kind === 'rest') return segments.length > i;
    if (i >= segments.length) return false;
    if (part.kind === 'literal' && part.value !== segments[i]) return false;
  }
  return pattern.length === segments.length;
}

/** The reserved path a pattern with a literal first segment would claim, if any. */
export function claimedReservedPath(pattern: readonly PatternSegment[]): string | undefined {
  if (pattern[0]?.kind !== 'literal') return undefined;
  return RESERVED_PATHS.find((path) => patternMatches(pattern, path.slice(1).split('/')));
}

const RANK = { literal: 0, param: 1, rest: 2 } as const;

/**
 * Where two patterns that both match a path part ways in precedence: the first segment index at
 * which their kinds differ (literal > param > rest), or -1 when they rank equally everywhere.
 */
export function precedenceSplit(a: readonly PatternSegment[], b: readonly PatternSegment[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (RANK[a[i]!.kind] !== RANK[b[i]!.kind]) return i;
  }
  return -1;
}

export function describeSegment(segment: PatternSegment): string {
  return segment.kind === 'literal' ? `literal "${segment.value}"` : segment.kind === 'param' ? `:${segment.name}` : '`**`';
}
